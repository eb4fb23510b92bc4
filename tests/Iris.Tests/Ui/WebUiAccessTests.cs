using Iris.Tests.Support;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Iris.Tests.Ui;

/// <summary>The web UI on a server with API keys: the page itself is public, the API calls need the key the user enters.</summary>
public sealed class WebUiAccessTests(Chromium chromium) : IClassFixture<Chromium>, IAsyncLifetime
{
    private const string Key = "ui-key-0123456789";
    private IrisTestHost _host = null!;

    public async Task InitializeAsync()
    {
        _host = await IrisTestHost.StartAsync(new Dictionary<string, string?> { ["Auth:ApiKeys:ui-tester"] = Key });
        await _host.WaitUntilReadyAsync();
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Without_a_key_the_page_asks_for_one_and_works_once_it_is_entered()
    {
        var (page, _) = await chromium.NewPageAsync();
        var response = await page.GotoAsync(new Uri(_host.Address, "/ui#models").ToString());
        Assert.Equal(200, response!.Status);

        var banner = page.Locator("#auth-message");
        await Expect(banner).ToBeVisibleAsync();
        await Expect(banner).ToContainTextAsync("enter an API key");
        await Expect(page.Locator("#models-error")).ToContainTextAsync("API key");

        await page.GetByLabel("API key").FillAsync(Key);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save key" }).ClickAsync();

        await Expect(page.Locator("#models")).ToContainTextAsync("yolox-nano");
        await Expect(banner).ToBeHiddenAsync();
        await Expect(page.Locator("#models-error")).ToBeHiddenAsync();
        // The key survives a reload (localStorage) and is sent with the next call.
        await page.ReloadAsync();
        await Expect(page.Locator("#models")).ToContainTextAsync("yolox-nano");
        await Expect(banner).ToBeHiddenAsync();
    }

    [Fact]
    public async Task A_wrong_key_is_reported_as_refused()
    {
        var (page, _) = await chromium.NewPageAsync();
        await page.GotoAsync(new Uri(_host.Address, "/ui#jobs").ToString());
        await page.GetByLabel("API key").FillAsync("not-the-key");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save key" }).ClickAsync();

        await Expect(page.Locator("#auth-message")).ToContainTextAsync("refused the API key");
    }
}
