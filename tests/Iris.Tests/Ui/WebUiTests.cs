using Iris.Tests.Support;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Iris.Tests.Ui;

/// <summary>The built-in web UI in a real Chromium against the real server, used as a person would: pick a file, click, read.</summary>
public sealed class WebUiTests(ReadyIrisHost server, Chromium chromium) : IClassFixture<ReadyIrisHost>, IClassFixture<Chromium>
{
    private static readonly string Dog = TestPaths.RealImage("dog.jpg");

    private async Task<(IPage Page, List<string> ConsoleErrors)> OpenAsync(string path = "/ui")
    {
        var (page, errors) = await chromium.NewPageAsync();
        await page.GotoAsync(new Uri(server.Host.Address, path).ToString());
        return (page, errors);
    }

    /// <summary>Opens the Transform view, picks the dog and runs <paramref name="ops"/>.</summary>
    private async Task<(IPage Page, List<string> ConsoleErrors)> TransformDogAsync(string ops)
    {
        var (page, errors) = await OpenAsync("/ui#transform");
        await page.Locator("#file").SetInputFilesAsync(Dog);
        await page.GetByLabel("Operations").FillAsync(ops);
        await page.GetByRole(AriaRole.Button, new() { Name = "Transform", Exact = true }).ClickAsync();
        return (page, errors);
    }

    [Fact]
    public async Task Root_redirects_to_the_ui_and_every_view_loads_without_console_errors()
    {
        var (page, errors) = await OpenAsync("/");

        Assert.EndsWith("/ui", new Uri(page.Url).AbsolutePath);
        await Expect(page.GetByRole(AriaRole.Tab, new() { Name = "Analyze" })).ToHaveAttributeAsync("aria-selected", "true");
        await page.GetByRole(AriaRole.Tab, new() { Name = "Models" }).ClickAsync();
        await Expect(page.Locator("#models")).ToContainTextAsync("yolox-nano");
        await page.GetByRole(AriaRole.Tab, new() { Name = "Jobs" }).ClickAsync();
        await Expect(page.Locator("#jobs tr").First).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Tab, new() { Name = "Transform" }).ClickAsync();
        await Expect(page.Locator("#ops")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Tab, new() { Name = "Search" }).ClickAsync();
        await Expect(page.Locator("#count-indexed")).ToHaveTextAsync("0");

        Assert.Empty(errors);
    }

    [Fact]
    public async Task Analyze_with_detect_lists_the_dog_and_draws_its_box_on_the_overlay()
    {
        var (page, errors) = await OpenAsync();
        await page.Locator("#file").SetInputFilesAsync(Dog);
        await page.GetByLabel("info").UncheckAsync();
        await page.GetByLabel("detect").CheckAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Analyze", Exact = true }).ClickAsync();

        await Expect(page.Locator("#objects")).ToContainTextAsync("dog");
        await Expect(page.Locator("#info")).ToContainTextAsync("768 × 576");
        await Expect(page.Locator("#timings")).ToContainTextAsync("detect");
        var boxes = int.Parse(await page.Locator("#overlay").GetAttributeAsync("data-boxes") ?? "0");
        Assert.True(boxes >= 1, $"the overlay reports {boxes} boxes");
        // The boxes really are painted: the overlay canvas has opaque pixels where it was empty before.
        var painted = await page.Locator("#overlay").EvaluateAsync<int>(
            "c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }");
        Assert.True(painted > 100, $"only {painted} painted pixels on the overlay");
        Assert.Empty(errors);
    }

    [Fact]
    public async Task A_bad_transform_op_shows_the_problem_detail()
    {
        var (page, _) = await TransformDogAsync("bogus:x=1");

        await Expect(page.Locator("#transform-error")).ToBeVisibleAsync();
        await Expect(page.Locator("#transform-error")).ToContainTextAsync("Unknown operation 'bogus'");
        await Expect(page.Locator("#transform-result")).ToBeHiddenAsync();
    }

    [Fact]
    public async Task A_good_transform_shows_the_result_with_its_size_and_type()
    {
        var (page, errors) = await TransformDogAsync("resize:w=400;format:webp");

        await Expect(page.Locator("#transform-meta")).ToContainTextAsync("400 × 300");
        await Expect(page.Locator("#transform-meta")).ToContainTextAsync("image/webp");
        Assert.Empty(errors);
    }

    [Fact]
    public async Task A_job_submitted_from_the_page_appears_in_the_jobs_list_and_finishes()
    {
        var (page, errors) = await OpenAsync("/ui#jobs");
        await page.Locator("#file").SetInputFilesAsync(Dog);

        await page.GetByRole(AriaRole.Button, new() { Name = "Submit image as a job" }).ClickAsync();

        await Expect(page.Locator("#jobs-message")).ToContainTextAsync("Submitted job");
        var message = await page.Locator("#jobs-message").TextContentAsync() ?? "";
        var id = message.Split(' ')[2];
        var row = page.Locator("#jobs tr", new() { Has = page.Locator("code", new() { HasTextString = id }) });
        await Expect(row).ToContainTextAsync("dog.jpg");
        // The list refreshes itself while the Jobs view is open: the job reaches done without a click.
        await Expect(row).ToContainTextAsync("done");
        await row.GetByRole(AriaRole.Button, new() { Name = "show" }).ClickAsync();
        await Expect(page.Locator("#job-result")).ToContainTextAsync("\"dog\"");
        Assert.Empty(errors);
    }
}
