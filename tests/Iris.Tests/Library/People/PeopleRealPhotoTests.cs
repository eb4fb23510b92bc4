using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Iris.Tests.Support;
using Xunit.Abstractions;

namespace Iris.Tests.Library.People;

/// <summary>
/// A server indexing with face-embed (UltraFace + faceres) and people formed from two faces: the four real group photos
/// and the eleven single-face crops the mirror cut from faces-13.jpg and faces-16.jpg, added through the API.
/// </summary>
public sealed class RealPeopleFixture : IAsyncLifetime
{
    private readonly TempDirectory _data = new();

    public IrisTestHost Host { get; private set; } = null!;
    public HttpClient Client => Host.Client;

    /// <summary>File name → image id.</summary>
    public Dictionary<string, string> Images { get; } = [];

    public static readonly string[] Photos = ["faces-2.jpg", "faces-13.jpg", "faces-16.jpg", "faces-19.jpg"];
    public static readonly string[] Crops = [.. "abcdefghi".Select(c => $"face-f16{c}.png"), "face-f13a.png", "face-f13b.png"];

    public async Task InitializeAsync()
    {
        Host = await IrisTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Library:IndexTasks"] = "face-embed",
            ["Library:People:MinFaces"] = "2",
            ["Jobs:Workers"] = "2",
            ["Jobs:PollIntervalMs"] = "50",
            ["Storage:Directory"] = Path.Combine(_data.Path, "images"),
            ["Transforms:CacheDirectory"] = Path.Combine(_data.Path, "transform-cache"),
            ["Library:IndexDatabase"] = Path.Combine(_data.Path, "vectors.db"),
        });
        foreach (var photo in Photos) Images[photo] = await LibraryFixture.AddAsync(Client, TestPaths.RealImage(photo), "people");
        foreach (var crop in Crops) Images[crop] = await LibraryFixture.AddAsync(Client, Path.Combine(TestPaths.Shared, "testdata", "real-models", crop), "people");
        await LibraryFixture.WaitIndexedAsync(Client, Images.Values, TimeSpan.FromMinutes(5));
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        _data.Dispose();
    }
}

public sealed class PeopleRealPhotoTests(RealPeopleFixture library, ITestOutputHelper output) : IClassFixture<RealPeopleFixture>
{
    private HttpClient Client => library.Client;

    private async Task<List<JsonElement>> PeopleAsync() =>
        (await Client.GetFromJsonAsync<JsonElement>("/v1/people")).GetProperty("people").EnumerateArray().ToList();

    /// <summary>Image id → the people it holds, from each person's GET /v1/people/{id}.</summary>
    private async Task<Dictionary<string, List<string>>> PeopleByImageAsync()
    {
        var byImage = new Dictionary<string, List<string>>();
        foreach (var person in await PeopleAsync())
        {
            var id = person.GetProperty("person_id").GetString()!;
            var detail = await Client.GetFromJsonAsync<JsonElement>($"/v1/people/{id}");
            foreach (var image in detail.GetProperty("images").EnumerateArray())
            {
                var imageId = image.GetProperty("image_id").GetString()!;
                if (!byImage.TryGetValue(imageId, out var list)) byImage[imageId] = list = [];
                list.Add(id);
            }
        }
        return byImage;
    }

    [Fact]
    public async Task Each_face_crop_joins_the_person_of_its_face_in_the_group_photo()
    {
        var recluster = await (await Client.PostAsync("/v1/library/people/recluster", null)).Content.ReadFromJsonAsync<JsonElement>();
        var byImage = await PeopleByImageAsync();
        var report = new StringBuilder();
        foreach (var (file, id) in library.Images)
        {
            var image = await Client.GetFromJsonAsync<JsonElement>($"/v1/images/{id}");
            report.Append(FormattableString.Invariant($"{file}: {image.GetProperty("index").GetProperty("face_count")} face(s), {byImage.GetValueOrDefault(id)?.Count ?? 0} in people\n"));
        }
        var people = await PeopleAsync();
        report.Append(FormattableString.Invariant($"people: {people.Count}; recluster after indexing: {recluster}\n"));
        output.WriteLine(report.ToString());

        foreach (var crop in RealPeopleFixture.Crops)
        {
            var group = library.Images[crop.StartsWith("face-f16", StringComparison.Ordinal) ? "faces-16.jpg" : "faces-13.jpg"];
            var person = Assert.Single(byImage.GetValueOrDefault(library.Images[crop]) ?? []);
            Assert.Contains(person, byImage[group]);
        }
        // Nine different people of faces-16 and two of faces-13: eleven people, never two crops in one.
        Assert.Equal(RealPeopleFixture.Crops.Length, RealPeopleFixture.Crops.Select(c => byImage[library.Images[c]][0]).Distinct().Count());
    }

    [Fact]
    public async Task A_person_search_lists_only_their_photos_and_a_split_face_stays_out_after_reclustering()
    {
        var crop = library.Images["face-f16a.png"];
        var byImage = await PeopleByImageAsync();
        var person = byImage[crop][0];

        var listed = await Client.GetFromJsonAsync<JsonElement>($"/v1/images?person={person}");
        Assert.Equal(new[] { library.Images["faces-16.jpg"], crop }.Order(),
            listed.GetProperty("images").EnumerateArray().Select(i => i.GetProperty("image_id").GetString()!).Order());

        var detail = await Client.GetFromJsonAsync<JsonElement>($"/v1/people/{person}");
        var face = detail.GetProperty("faces").EnumerateArray().First(f => f.GetProperty("image_id").GetString() == crop).GetProperty("face_id").GetString();
        using var split = await Client.PostAsJsonAsync($"/v1/people/{person}/split", new { face_ids = new[] { face }, name = "Crop" });
        Assert.Equal(HttpStatusCode.Created, split.StatusCode);
        await Client.PostAsync("/v1/library/people/recluster", null);

        Assert.DoesNotContain(person, (await PeopleByImageAsync()).GetValueOrDefault(crop) ?? []);
        using var thumbnail = await Client.GetAsync($"/v1/people/{person}/thumbnail?size=64");
        Assert.Equal(HttpStatusCode.OK, thumbnail.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync("/v1/people/nobody")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync("/v1/images?person=nobody")).StatusCode);
    }
}
