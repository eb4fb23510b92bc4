using Iris.Tests.Support;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Iris.Tests.Ui;

/// <summary>The web UI on a server with API keys: the page itself is public, the API calls need the key the user enters.</summary>
public sealed class WebUiAccessTests(Chromium chromium) : IClassFixture<Chromium>, IAsyncLifetime
{
    private const string Key = "ui-key-0123456789";
    private readonly TempDirectory _data = new();
    private IrisTestHost _host = null!;

    public async Task InitializeAsync()
    {
        _host = await IrisTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Auth:ApiKeys:ui-tester"] = Key,
            ["Storage:Directory"] = _data.File("blobs"),
            ["Transforms:CacheDirectory"] = _data.File("thumbnails"),
            ["Library:IndexTasks"] = "embed,describe",
        });
        await _host.WaitUntilReadyAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _data.Dispose();
    }

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

    [Fact]
    public async Task The_search_view_adds_and_shows_images_with_the_key_because_an_img_src_could_not_send_it()
    {
        var (page, _) = await chromium.NewPageAsync();
        await page.GotoAsync(new Uri(_host.Address, "/ui#search").ToString());
        await page.GetByLabel("API key").FillAsync(Key);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save key" }).ClickAsync();
        var flower = Path.Combine(FlowerReference.Folder, "flower-12.png");

        await page.Locator("#upload-files").SetInputFilesAsync(flower);
        await Expect(page.Locator("#count-indexed")).ToHaveTextAsync("1", new() { Timeout = 120_000 });
        await page.GetByLabel("Search the library").FillAsync("a blue flower with a yellow center");
        await page.GetByRole(AriaRole.Button, new() { Name = "Search", Exact = true }).ClickAsync();

        await Expect(page.Locator("#hits li.hit")).ToHaveCountAsync(1);
        await page.WaitForFunctionAsync("() => document.querySelector('#hits li.hit img')?.naturalWidth > 0");
        Assert.StartsWith("blob:", await page.Locator("#hits li.hit img").GetAttributeAsync("src"));
        await Expect(page.Locator("#auth-message")).ToBeHiddenAsync();
    }
}
