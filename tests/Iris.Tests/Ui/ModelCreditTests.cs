using Iris.Tests.Support;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Iris.Tests.Ui;

/// <summary>The Analyze view names the model behind each section and flags the synthetic-flower demonstration models.</summary>
public sealed class ModelCreditTests(ReadyIrisHost server, Chromium chromium) : IClassFixture<ReadyIrisHost>, IClassFixture<Chromium>
{
    [Fact]
    public async Task Each_section_names_its_model_and_the_flower_models_are_flagged_as_domain_specific()
    {
        var (page, errors) = await chromium.NewPageAsync();
        await page.GotoAsync(new Uri(server.Host.Address, "/ui").ToString());
        await page.Locator("#file").SetInputFilesAsync(TestPaths.RealImage("faces-13.jpg"));
        await page.GetByLabel("detect").CheckAsync();
        await page.GetByLabel("classify").CheckAsync();
        await page.GetByLabel("moderate").CheckAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Analyze", Exact = true }).ClickAsync();

        await Expect(page.Locator("#objects-model")).ToContainTextAsync("by yolox-nano");
        await Expect(page.Locator("#objects-model")).Not.ToContainTextAsync("synthetic");
        await Expect(page.Locator("#classes-model")).ToContainTextAsync("by petal-color");
        await Expect(page.Locator("#classes-model")).ToContainTextAsync("trained on synthetic flowers");
        await Expect(page.Locator("#moderate-model")).ToContainTextAsync("by nsfw-mobilenet-v2");
        await Expect(page.Locator("#moderate-verdict")).ToHaveTextAsync("Safe");
        await Expect(page.Locator("#moderate")).ToContainTextAsync("Neutral");
        Assert.Empty(errors);
    }
}
