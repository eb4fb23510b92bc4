using System.Text.Json;
using Iris.Core.Storage;
using Iris.Tests.Support;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Iris.Tests.Ui;

/// <summary>A server whose library indexes with the flower models (clip-tiny, flower-captioner-tiny) and YOLOX, empty at start.</summary>
public class LibraryIrisHost : IAsyncLifetime
{
    private readonly TempDirectory _data = new();
    public IrisTestHost Host { get; private set; } = null!;

    public virtual async Task InitializeAsync()
    {
        Host = await IrisTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Storage:Directory"] = _data.File("blobs"),
            ["Transforms:CacheDirectory"] = _data.File("thumbnails"),
            ["Library:IndexTasks"] = "embed,describe,detect",
        });
        await Host.WaitUntilReadyAsync();
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        _data.Dispose();
    }
}

/// <summary>The same server with the 20 flowers already added through the API (collection <c>flowers</c>) and indexed.</summary>
public sealed class FlowerLibraryHost : LibraryIrisHost
{
    public const string Collection = "flowers";

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        using var form = new MultipartFormDataContent { { new StringContent(Collection), "collection" } };
        foreach (var image in FlowerReference.Images)
            form.Add(new ByteArrayContent(await File.ReadAllBytesAsync(Path.Combine(FlowerReference.Folder, image.File))), "files", image.File);
        using var added = await Host.Client.PostAsync("/v1/images", form);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, added.StatusCode);
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (await CountAsync("indexed") < FlowerReference.Images.Count)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("The flowers were not indexed within 2 minutes.");
            await Task.Delay(200);
        }
    }

    private async Task<long> CountAsync(string state)
    {
        using var status = JsonDocument.Parse(await Host.Client.GetStringAsync($"/v1/library/status?collection={Collection}"));
        return status.RootElement.GetProperty(state).GetInt64();
    }
}

/// <summary>What the Search tests do on the page, as a person would: open the view, pick a collection, search, wait.</summary>
internal static class SearchPage
{
    public static string Flower(string file) => Path.Combine(FlowerReference.Folder, file);

    /// <summary>The library's id of a file: its content id, the same however it is added.</summary>
    public static string IdOf(string path) => BlobIds.For(File.ReadAllBytes(path));

    /// <summary>
    /// Opens the Search view on <paramref name="collection"/>. Every console error is kept: the indexing progress reads
    /// GET /v1/library/status, which answers zeros for a collection that holds no image yet, so the page never meets a 404.
    /// </summary>
    public static async Task<(IPage Page, List<string> ConsoleErrors)> OpenAsync(Chromium chromium, IrisTestHost host, string collection)
    {
        var (page, _) = await chromium.NewPageAsync();
        var errors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error") lock (errors) errors.Add(message.Text);
        };
        page.PageError += (_, error) => { lock (errors) errors.Add(error); };
        await page.GotoAsync(new Uri(host.Address, "/ui#search").ToString());
        await page.GetByLabel("Collection").FillAsync(collection);
        await page.GetByLabel("Collection").DispatchEventAsync("change");
        return (page, errors);
    }

    /// <summary>The counts poll by themselves: all <paramref name="count"/> images indexed, none waiting, none failed.</summary>
    public static async Task ExpectIndexedAsync(IPage page, int count)
    {
        await Expect(page.Locator("#count-indexed")).ToHaveTextAsync(count.ToString(), new() { Timeout = 120_000 });
        await Expect(page.Locator("#count-queued")).ToHaveTextAsync("0");
        await Expect(page.Locator("#count-failed")).ToHaveTextAsync("0");
    }

    public static async Task SearchAsync(IPage page, string text, string mode)
    {
        await page.GetByLabel("Search the library").FillAsync(text);
        await page.GetByLabel("Mode", new() { Exact = true }).SelectOptionAsync(mode);
        await page.GetByRole(AriaRole.Button, new() { Name = "Search", Exact = true }).ClickAsync();
    }

    public static ILocator Hits(IPage page) => page.Locator("#hits li.hit");

    /// <summary>The image the reference embeddings rank first for <paramref name="query"/> among <paramref name="files"/>.</summary>
    public static FlowerReference.Image ReferenceTop(string query, IEnumerable<string>? files = null)
    {
        var embedding = FlowerReference.Queries.Single(q => q.Text == query).TextEmbeds;
        return FlowerReference.Images.Where(i => files?.Contains(i.File) ?? true)
            .MaxBy(i => FlowerReference.Cosine(i.ClipImageEmbeds, embedding))!;
    }
}

/// <summary>Adding images through the page's file picker into an empty library, then finding one of them.</summary>
public sealed class SearchPageUploadTests(LibraryIrisHost server, Chromium chromium) : IClassFixture<LibraryIrisHost>, IClassFixture<Chromium>
{
    [Fact]
    public async Task Flowers_added_with_the_file_picker_are_indexed_and_a_clip_query_ranks_its_reference_image_first()
    {
        string[] files = ["flower-10.png", "flower-11.png", "flower-12.png", "flower-13.png", "flower-14.png"];
        var (page, errors) = await SearchPage.OpenAsync(chromium, server.Host, "picked");

        await page.Locator("#upload-files").SetInputFilesAsync(files.Select(SearchPage.Flower));

        await Expect(page.Locator("#upload-status")).ToContainTextAsync($"Added {files.Length} images");
        await SearchPage.ExpectIndexedAsync(page, files.Length);
        const string query = "a blue flower with a yellow center";
        await SearchPage.SearchAsync(page, query, "semantic");
        var hits = SearchPage.Hits(page);
        await Expect(hits).ToHaveCountAsync(files.Length);
        await Expect(hits.First).ToHaveAttributeAsync("data-image-id", SearchPage.IdOf(SearchPage.Flower(SearchPage.ReferenceTop(query, files).File)));
        Assert.Empty(errors);
    }
}

/// <summary>
/// The Search view in a real Chromium against the real server and its real indexing jobs, over the 20 flowers: text
/// and image queries with their scores, one image in detail, errors as the server words them, drag and drop.
/// </summary>
public sealed class SearchPageTests(FlowerLibraryHost server, Chromium chromium) : IClassFixture<FlowerLibraryHost>, IClassFixture<Chromium>
{
    private Task<(IPage Page, List<string> ConsoleErrors)> OpenAsync(string collection = FlowerLibraryHost.Collection) =>
        SearchPage.OpenAsync(chromium, server.Host, collection);

    [Theory]
    [InlineData("a blue flower with a yellow center")]
    [InlineData("purple pointed petals")]
    public async Task A_clip_query_ranks_the_reference_top_image_first_with_its_score_and_thumbnail(string query)
    {
        var (page, errors) = await OpenAsync();
        await SearchPage.ExpectIndexedAsync(page, FlowerReference.Images.Count);

        await SearchPage.SearchAsync(page, query, "semantic");

        await Expect(page.Locator("#search-status")).ToContainTextAsync("best first");
        var first = SearchPage.Hits(page).First;
        await Expect(first).ToHaveAttributeAsync("data-image-id", SearchPage.IdOf(SearchPage.Flower(SearchPage.ReferenceTop(query).File)));
        await Expect(first.Locator(".score")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^score -?\d\.\d{3}$"));
        // The thumbnail was fetched with the page's key and decoded: a picture, not a broken image.
        await page.WaitForFunctionAsync("() => document.querySelector('#hits li.hit img')?.naturalWidth > 0");
        // The search names the model that ranked it, and says what that model was trained on.
        await Expect(page.Locator("#search-models")).ToContainTextAsync("clip-tiny");
        await Expect(page.Locator("#search-models")).ToContainTextAsync("synthetic flowers");
        Assert.Empty(errors);
    }

    [Fact]
    public async Task An_opened_image_shows_its_caption_with_the_model_that_made_it_and_more_like_this_ranks_its_nearest_neighbour_first()
    {
        var (page, errors) = await OpenAsync();
        var flower = FlowerReference.ForFile("flower-00.png");
        var id = SearchPage.IdOf(SearchPage.Flower(flower.File));
        await SearchPage.SearchAsync(page, "purple pointed petals", "semantic");

        await page.Locator($"#hits li[data-image-id='{id}']").GetByRole(AriaRole.Button).ClickAsync();

        var dialog = page.GetByRole(AriaRole.Dialog);
        await Expect(dialog).ToBeVisibleAsync();
        await Expect(dialog.Locator("#image-title")).ToContainTextAsync(flower.File);
        await Expect(dialog.Locator("#image-caption")).ToContainTextAsync(flower.Greedy.Text);
        // The captioner only knows synthetic flowers: the page says which model wrote the caption and what it was trained on.
        await Expect(dialog.Locator("#image-caption-model")).ToContainTextAsync("Caption by flower-captioner-tiny 1.0");
        await Expect(dialog.Locator("#image-caption-model")).ToContainTextAsync("synthetic flowers");
        await Expect(dialog.Locator("#image-full")).ToHaveAttributeAsync("alt", $"{flower.Greedy.Text} (caption made by a model)");

        await dialog.GetByRole(AriaRole.Button, new() { Name = "More like this" }).ClickAsync();

        // The server leaves the image itself out of "more like this"; first comes its nearest neighbour by the reference embeddings.
        var nearest = FlowerReference.Images.Where(i => i.File != flower.File)
            .MaxBy(i => FlowerReference.Cosine(i.ClipImageEmbeds, flower.ClipImageEmbeds))!;
        await Expect(dialog).ToBeHiddenAsync();
        await Expect(page.Locator("#search-status")).ToContainTextAsync($"images like {flower.File}");
        await Expect(SearchPage.Hits(page).First).ToHaveAttributeAsync("data-image-id", SearchPage.IdOf(SearchPage.Flower(nearest.File)));
        await Expect(page.Locator($"#hits li[data-image-id='{id}']")).ToHaveCountAsync(0);
        Assert.Empty(errors);
    }

    [Fact]
    public async Task Searching_by_an_image_file_ranks_that_image_first_with_score_one()
    {
        var (page, errors) = await OpenAsync();
        var file = SearchPage.Flower("flower-07.png");

        await page.Locator("#search-example").SetInputFilesAsync(file);

        await Expect(page.Locator("#search-status")).ToContainTextAsync("images like flower-07.png");
        var first = SearchPage.Hits(page).First;
        await Expect(first).ToHaveAttributeAsync("data-image-id", SearchPage.IdOf(file));
        await Expect(first.Locator(".score")).ToHaveTextAsync("score 1.000");
        Assert.Empty(errors);
    }

    [Fact]
    public async Task An_image_dropped_on_the_page_is_added_and_its_boxes_are_drawn_when_opened()
    {
        var (page, errors) = await OpenAsync("dropped");
        var dog = TestPaths.RealImage("dog.jpg");
        // What a drop from the desktop hands the page: a DataTransfer holding the files (here also a text file it skips).
        var dataTransfer = await page.EvaluateHandleAsync("""
            ([data, name]) => {
              const transfer = new DataTransfer();
              const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
              transfer.items.add(new File([bytes], name, { type: 'image/jpeg' }));
              transfer.items.add(new File(['not an image'], 'notes.txt', { type: 'text/plain' }));
              return transfer;
            }
            """, new object[] { Convert.ToBase64String(await File.ReadAllBytesAsync(dog)), "dog.jpg" });

        await page.Locator("#upload-zone").DispatchEventAsync("drop", new Dictionary<string, object> { ["dataTransfer"] = dataTransfer });

        await Expect(page.Locator("#upload-status")).ToContainTextAsync("Added 1 image");
        await Expect(page.Locator("#upload-status")).ToContainTextAsync("1 file is not an image");
        await SearchPage.ExpectIndexedAsync(page, 1);
        await SearchPage.SearchAsync(page, "dog", "text");
        var first = SearchPage.Hits(page).First;
        await Expect(first).ToHaveAttributeAsync("data-image-id", SearchPage.IdOf(dog));
        await first.GetByRole(AriaRole.Button).ClickAsync();

        await Expect(page.Locator("#image-labels")).ToContainTextAsync("dog");
        await Expect(page.Locator("#image-boxes-model")).ToContainTextAsync("yolox-nano");
        var boxes = int.Parse(await page.Locator("#image-overlay").GetAttributeAsync("data-boxes") ?? "0");
        Assert.True(boxes >= 1, $"the overlay reports {boxes} boxes");
        // Escape closes the dialog and gives the focus back to the hit that opened it.
        await page.Keyboard.PressAsync("Escape");
        await Expect(page.GetByRole(AriaRole.Dialog)).ToBeHiddenAsync();
        await Expect(first.GetByRole(AriaRole.Button)).ToBeFocusedAsync();
        Assert.Empty(errors);
    }

    [Fact]
    public async Task A_deleted_image_leaves_the_grid_and_the_counts_and_does_not_come_back_in_a_search()
    {
        var (page, errors) = await OpenAsync("deleted");
        var photo = TestPaths.RealImage("coco-000000000285.jpg");
        await page.Locator("#upload-files").SetInputFilesAsync(photo);
        await SearchPage.ExpectIndexedAsync(page, 1);
        await page.Locator("#search-example").SetInputFilesAsync(photo);
        var hit = page.Locator($"#hits li[data-image-id='{SearchPage.IdOf(photo)}']");
        await hit.GetByRole(AriaRole.Button).ClickAsync();
        page.Dialog += (_, confirm) => confirm.AcceptAsync();

        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Delete from library" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Dialog)).ToBeHiddenAsync();
        await Expect(hit).ToHaveCountAsync(0);
        await Expect(page.Locator("#search-status")).ToContainTextAsync("Deleted image");
        await Expect(page.Locator("#count-indexed")).ToHaveTextAsync("0");
        // Searched across the whole library (its collection is gone with its only image), the photo finds others, not itself.
        await page.GetByLabel("Collection").FillAsync("");
        await page.Locator("#search-example").SetInputFilesAsync(photo);
        await Expect(page.Locator("#search-status")).ToContainTextAsync("images like coco-000000000285.jpg, best first");
        await Expect(hit).ToHaveCountAsync(0);
        Assert.Empty(errors);
    }

    [Fact]
    public async Task An_image_that_fails_to_index_is_counted_and_listed_with_the_reason()
    {
        var (page, errors) = await OpenAsync("broken");
        // A JPEG cut short: its header passes the upload's format check, the decode in the indexing job fails.
        var truncated = (await File.ReadAllBytesAsync(TestPaths.RealImage("faces-2.jpg")))[..3000];

        await page.Locator("#upload-files").SetInputFilesAsync(new FilePayload { Name = "cut-short.jpg", MimeType = "image/jpeg", Buffer = truncated });

        await Expect(page.Locator("#count-failed")).ToHaveTextAsync("1", new() { Timeout = 120_000 });
        await Expect(page.Locator("#count-queued")).ToHaveTextAsync("0");
        var failed = page.Locator("#failed li");
        await Expect(failed).ToHaveCountAsync(1);
        await Expect(failed).ToContainTextAsync("cut-short.jpg: ");
        var reason = (await failed.TextContentAsync())!["cut-short.jpg: ".Length..];
        Assert.False(string.IsNullOrWhiteSpace(reason));
        await failed.GetByRole(AriaRole.Button).ClickAsync();
        await Expect(page.Locator("#image-facts")).ToContainTextAsync($"failed ({reason})");
        Assert.Empty(errors);
    }

    [Fact]
    public async Task An_empty_query_shows_the_servers_problem_detail()
    {
        var (page, _) = await OpenAsync();

        await SearchPage.SearchAsync(page, "", "hybrid");

        var error = page.Locator("#search-error");
        await Expect(error).ToBeVisibleAsync();
        await Expect(error).ToContainTextAsync(await ProblemDetailAsync("/v1/search?text=&mode=hybrid"));
        await Expect(SearchPage.Hits(page)).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task The_search_view_is_reached_by_keyboard_and_hides_the_single_image_picker()
    {
        var (page, errors) = await chromium.NewPageAsync();
        await page.GotoAsync(new Uri(server.Host.Address, "/ui").ToString());
        await page.GetByRole(AriaRole.Tab, new() { Name = "Analyze" }).FocusAsync();

        await page.Keyboard.PressAsync("ArrowRight");

        await Expect(page.GetByRole(AriaRole.Tab, new() { Name = "Search" })).ToHaveAttributeAsync("aria-selected", "true");
        await Expect(page.GetByRole(AriaRole.Search)).ToBeVisibleAsync();
        await Expect(page.Locator("#picker")).ToBeHiddenAsync();
        // No collection typed: the counts are the whole library's (the flowers and whatever other tests added).
        await Expect(page.Locator("#count-indexed")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^\d+$"));
        Assert.EndsWith("#search", page.Url);
        Assert.Empty(errors);
    }

    private async Task<string> ProblemDetailAsync(string path)
    {
        using var response = await server.Host.Client.GetAsync(path);
        Assert.False(response.IsSuccessStatusCode, $"{path} answered {(int)response.StatusCode}");
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return problem.RootElement.GetProperty("detail").GetString()!;
    }
}
