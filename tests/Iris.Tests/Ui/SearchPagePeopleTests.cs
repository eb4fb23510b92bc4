using System.Net.Http.Json;
using System.Text.Json;
using Iris.Tests.Library;
using Iris.Tests.Support;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Iris.Tests.Ui;

/// <summary>
/// A library indexing with embed and face-embed, people from two faces: faces-16.jpg (nine people) and crops of three of
/// its faces, so three people have two photos each and the other six faces wait unassigned.
/// </summary>
public sealed class PeopleLibraryHost : IAsyncLifetime
{
    public const string Collection = "people";
    private readonly TempDirectory _data = new();
    public IrisTestHost Host { get; private set; } = null!;

    /// <summary>File name → image id.</summary>
    public Dictionary<string, string> Images { get; } = [];

    public async Task InitializeAsync()
    {
        Host = await IrisTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Storage:Directory"] = _data.File("blobs"),
            ["Transforms:CacheDirectory"] = _data.File("thumbnails"),
            ["Library:IndexTasks"] = "embed,face-embed",
            ["Library:People:MinFaces"] = "2",
            ["Jobs:PollIntervalMs"] = "50",
        });
        Images["faces-16.jpg"] = await LibraryFixture.AddAsync(Host.Client, TestPaths.RealImage("faces-16.jpg"), Collection);
        foreach (var crop in new[] { "face-f16a.png", "face-f16b.png", "face-f16c.png" })
            Images[crop] = await LibraryFixture.AddAsync(Host.Client, Path.Combine(TestPaths.Shared, "testdata", "real-models", crop), Collection);
        await LibraryFixture.WaitIndexedAsync(Host.Client, Images.Values, TimeSpan.FromMinutes(3));
        // Indexing clusters too, but its last pass may still be running when the last image reads as indexed.
        (await Host.Client.PostAsync("/v1/library/people/recluster", null)).EnsureSuccessStatusCode();
    }

    /// <summary>The person whose photos include <paramref name="file"/>.</summary>
    public async Task<string> PersonOfAsync(string file)
    {
        foreach (var person in (await Host.Client.GetFromJsonAsync<JsonElement>("/v1/people")).GetProperty("people").EnumerateArray())
        {
            var id = person.GetProperty("person_id").GetString()!;
            var detail = await Host.Client.GetFromJsonAsync<JsonElement>($"/v1/people/{id}");
            if (detail.GetProperty("images").EnumerateArray().Any(i => i.GetProperty("image_id").GetString() == Images[file])) return id;
        }
        throw new InvalidOperationException($"No person has {file}.");
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        _data.Dispose();
    }
}

/// <summary>People on the Search view in a real Chromium: the row of faces, filtering by one, naming them.</summary>
public sealed class SearchPagePeopleTests(PeopleLibraryHost server, Chromium chromium) : IClassFixture<PeopleLibraryHost>, IClassFixture<Chromium>
{
    [Fact]
    public async Task The_people_row_shows_each_person_with_a_face_crop_and_choosing_one_lists_only_their_photos()
    {
        var (page, errors) = await SearchPage.OpenAsync(chromium, server.Host, PeopleLibraryHost.Collection);
        var person = await server.PersonOfAsync("face-f16a.png");

        var people = page.Locator("#people li.person");
        await Expect(people).ToHaveCountAsync(3);
        await Expect(people.First).ToContainTextAsync("2 photos");
        // The cover face came through the API with the page's key and decoded: a picture, not a broken image.
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('#people img')].every(i => i.naturalWidth > 0)");

        await page.Locator($"#people li[data-person-id='{person}'] button").ClickAsync();

        await Expect(page.Locator("#person-filter")).ToBeVisibleAsync();
        await Expect(SearchPage.Hits(page)).ToHaveCountAsync(2);
        var shown = await SearchPage.Hits(page).EvaluateAllAsync<string[]>("items => items.map(i => i.dataset.imageId)");
        Assert.Equal(new[] { server.Images["faces-16.jpg"], server.Images["face-f16a.png"] }.Order(), shown.Order());

        // A text search while a person is chosen looks only at their photos.
        await SearchPage.SearchAsync(page, "a person", "semantic");
        await Expect(page.Locator("#search-status")).ToContainTextAsync("a person");
        await Expect(SearchPage.Hits(page)).ToHaveCountAsync(2);

        await page.GetByRole(AriaRole.Button, new() { Name = "Everyone" }).ClickAsync();
        await Expect(page.Locator("#person-filter")).ToBeHiddenAsync();
        await Expect(SearchPage.Hits(page)).ToHaveCountAsync(4);
        Assert.Empty(errors);
    }

    [Fact]
    public async Task A_person_named_on_the_page_keeps_the_name_in_the_row_and_in_the_api()
    {
        var (page, errors) = await SearchPage.OpenAsync(chromium, server.Host, PeopleLibraryHost.Collection);
        var person = await server.PersonOfAsync("face-f16b.png");
        await page.Locator($"#people li[data-person-id='{person}'] button").ClickAsync();

        await page.Locator("#person-name").FillAsync("Grace");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save name" }).ClickAsync();

        await Expect(page.Locator("#person-filter-text")).ToHaveTextAsync("Only photos of Grace.");
        await Expect(page.Locator($"#people li[data-person-id='{person}']")).ToContainTextAsync("Grace");
        var stored = await server.Host.Client.GetFromJsonAsync<JsonElement>($"/v1/people/{person}");
        Assert.Equal("Grace", stored.GetProperty("person").GetProperty("name").GetString());
        Assert.Empty(errors);
    }
}
