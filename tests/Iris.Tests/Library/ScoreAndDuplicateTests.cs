using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Iris.Tests.Support;

namespace Iris.Tests.Library;

/// <summary>
/// A CLIP-only library of the 20 flowers (each tagged with the words of its description), a lossless PNG re-encode of
/// flower-00 (same pixels, other bytes) and a 90 % resize of it (a near-duplicate).
/// </summary>
public sealed class ScoreLibraryFixture : IAsyncLifetime
{
    private readonly TempDirectory _data = new();
    private readonly TempDirectory _files = new();

    public IrisTestHost Host { get; private set; } = null!;
    public HttpClient Client => Host.Client;
    public Dictionary<string, string> Flowers { get; } = [];
    public string Original => Flowers["flower-00.png"];
    public string Reencoded { get; private set; } = "";
    public string Resized { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Host = await IrisTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Library:IndexTasks"] = "embed",
            ["Jobs:Workers"] = "2",
            ["Jobs:PollIntervalMs"] = "50",
            ["Storage:Directory"] = Path.Combine(_data.Path, "images"),
            ["Library:IndexDatabase"] = Path.Combine(_data.Path, "vectors.db"),
        });
        foreach (var image in FlowerReference.Images)
        {
            var words = string.Join(",", Iris.Core.Library.SqlLibraryStore.Terms(image.Truth));
            Flowers[image.File] = await LibraryFixture.AddAsync(Client, Path.Combine(FlowerReference.Folder, image.File), "flowers", words);
        }
        using var source = NetVips.Image.NewFromFile(Path.Combine(FlowerReference.Folder, "flower-00.png"));
        var reencoded = Path.Combine(_files.Path, "reencoded.png");
        await File.WriteAllBytesAsync(reencoded, source.PngsaveBuffer(compression: 1, filter: NetVips.Enums.ForeignPngFilter.None));
        var resized = Path.Combine(_files.Path, "resized.png");
        using (var smaller = source.Resize(0.9)) await File.WriteAllBytesAsync(resized, smaller.PngsaveBuffer());
        Reencoded = await LibraryFixture.AddAsync(Client, reencoded, "flowers");
        Resized = await LibraryFixture.AddAsync(Client, resized, "flowers");
        await LibraryFixture.WaitIndexedAsync(Client, [.. Flowers.Values, Reencoded, Resized], TimeSpan.FromMinutes(4));
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        _data.Dispose();
        _files.Dispose();
    }
}

public sealed class ScoreAndDuplicateTests(ScoreLibraryFixture library) : IClassFixture<ScoreLibraryFixture>
{
    private HttpClient Client => library.Client;

    private async Task<JsonElement> GetAsync(string url)
    {
        using var response = await Client.GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static List<JsonElement> Hits(JsonElement search) => search.GetProperty("hits").EnumerateArray().ToList();

    private static List<string> Ids(JsonElement search) => Hits(search).Select(h => h.GetProperty("image_id").GetString()!).ToList();

    private static float Score(JsonElement hit) => hit.GetProperty("score").GetSingle();

    private static string Number(float value) => value.ToString("R", CultureInfo.InvariantCulture);

    [Fact]
    public async Task A_matching_query_scores_far_above_chance_and_an_unrelated_query_does_not()
    {
        var unrelated = Hits(await GetAsync("/v1/search?mode=semantic&k=100&text=" + Uri.EscapeDataString("a spreadsheet of quarterly tax figures")));
        Assert.Equal(22, unrelated.Count);
        Assert.All(unrelated, h => Assert.InRange(Score(h), 0f, 1f));
        // The raw cosine stays available beside the calibrated score.
        Assert.All(unrelated, h => Assert.Equal(JsonValueKind.Number, h.GetProperty("similarity").ValueKind));
        var worstUnrelated = unrelated.Max(Score);
        var tops = new List<(string Query, float Score, double Reference)>();
        foreach (var query in FlowerReference.Queries)
        {
            var top = Hits(await GetAsync("/v1/search?mode=semantic&k=1&text=" + Uri.EscapeDataString(query.Text)))[0];
            tops.Add((query.Text, Score(top), FlowerReference.Images.Max(i => FlowerReference.Cosine(query.TextEmbeds, i.ClipImageEmbeds))));
        }
        var report = string.Join("; ", tops.Select(t => $"'{t.Query}' {t.Score:0.000} (reference cosine {t.Reference:0.000})")) + $"; unrelated best {worstUnrelated:0.000}";
        // Two reference queries name colours no flower here has (their reference cosines are the lowest): they score low, rightly.
        Assert.True(tops.Count(t => t.Score > worstUnrelated + 0.05f) >= 8, report);
        Assert.True(tops.Average(t => t.Score) > 0.85f, report);
        var weakest = tops.OrderBy(t => t.Reference).Take(2).Select(t => t.Query).ToHashSet();
        Assert.All(tops.Where(t => !weakest.Contains(t.Query)), t => Assert.True(t.Score >= 0.85f, report));
    }

    [Fact]
    public async Task An_image_query_is_calibrated_against_image_pairs_and_finds_its_copies_far_above_chance()
    {
        // More like this leaves the image itself out; its re-encode has the same pixels, so the same embedding.
        var hits = await PostAsync(library.Original);
        Assert.Equal(library.Reencoded, hits[0].GetProperty("image_id").GetString());
        Assert.True(Score(hits[0]) > 0.95f, hits[0].ToString());
        Assert.All(hits, h => Assert.InRange(Score(h), 0f, 1f));
    }

    private async Task<List<JsonElement>> PostAsync(string imageId)
    {
        using var response = await Client.PostAsJsonAsync("/v1/search?k=100", new { image_id = imageId });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return Hits(await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    [Theory]
    [InlineData("semantic")]
    [InlineData("text")]
    [InlineData("hybrid")]
    public async Task Min_score_cuts_every_mode_by_the_calibrated_score(string mode)
    {
        var query = $"/v1/search?mode={mode}&k=100&text=" + Uri.EscapeDataString("purple petals with a brown center");
        var all = Hits(await GetAsync(query));
        Assert.NotEmpty(all);
        var scores = all.Select(Score).Distinct().Order().ToList();
        Assert.True(scores.Count > 1, $"{mode}: one score for every hit: {scores[0]}");
        var cut = scores[scores.Count / 2];
        var kept = Ids(await GetAsync($"{query}&min_score={Number(cut)}"));
        Assert.Equal(all.Where(h => Score(h) >= cut).Select(h => h.GetProperty("image_id").GetString()!).ToList(), kept);
        Assert.True(kept.Count < all.Count);
    }

    [Fact]
    public async Task Sort_by_date_orders_what_the_cut_kept_newest_first()
    {
        const string query = "/v1/search?mode=semantic&k=100&text=a+flower+with+purple+petals";
        var all = Hits(await GetAsync(query));
        var cut = all.Select(Score).Order().ToList()[all.Count / 2];
        var byDate = Ids(await GetAsync($"{query}&min_score={Number(cut)}&sort=date"));
        var kept = all.Where(h => Score(h) >= cut).Select(h => h.GetProperty("image_id").GetString()!).ToList();
        Assert.Equal(kept.Order(), byDate.Order());
        var added = new Dictionary<string, DateTimeOffset>();
        foreach (var id in byDate) added[id] = (await GetAsync($"/v1/images/{id}")).GetProperty("added_at").GetDateTimeOffset();
        Assert.Equal(byDate.OrderByDescending(id => added[id]).Select(id => added[id]), byDate.Select(id => added[id]));
    }

    [Fact]
    public async Task Seed_002_keeps_its_shape_and_answers_the_raw_cosine()
    {
        const string text = "a flower with four purple pointed petals";
        var seed = await GetAsync("/api/v1/image/search?limit=5&text=" + Uri.EscapeDataString(text));
        Assert.All(seed.EnumerateArray(), h => Assert.Equal(["image_id", "score"], h.EnumerateObject().Select(p => p.Name)));
        var ours = Hits(await GetAsync("/v1/search?mode=semantic&k=5&text=" + Uri.EscapeDataString(text)));
        Assert.Equal(ours.Select(h => h.GetProperty("similarity").GetSingle()), seed.EnumerateArray().Select(h => h.GetProperty("score").GetSingle()));
    }

    [Fact]
    public async Task Min_score_outside_0_to_1_is_refused()
    {
        using var response = await Client.GetAsync("/v1/search?text=flower&min_score=-0.2");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("min_score", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("parameter").GetString());
    }

    [Fact]
    public async Task A_re_encode_with_the_same_pixels_is_an_exact_duplicate_and_a_resize_a_near_one()
    {
        Assert.NotEqual(library.Original, library.Reencoded);
        var exact = (await GetAsync("/v1/duplicates?kind=exact")).GetProperty("groups");
        var group = Assert.Single(exact.EnumerateArray());
        Assert.Equal("exact", group.GetProperty("kind").GetString());
        Assert.Equal(new[] { library.Original, library.Reencoded }.Order(StringComparer.Ordinal),
            group.GetProperty("images").EnumerateArray().Select(i => i.GetProperty("image_id").GetString()));
        Assert.All(group.GetProperty("images").EnumerateArray(), i => Assert.Equal(0, i.GetProperty("distance").GetInt32()));

        var near = (await GetAsync("/v1/duplicates?kind=near&collection=flowers&limit=1000")).GetProperty("groups").EnumerateArray().ToList();
        Assert.Contains(near, g => Members(g).Contains(library.Resized) && Members(g).Contains(library.Original));

        var view = (await GetAsync($"/v1/images/{library.Original}")).GetProperty("duplicates");
        Assert.Equal([library.Reencoded], view.GetProperty("exact").EnumerateArray().Select(e => e.GetString()!));
        Assert.Contains(library.Resized, view.GetProperty("near").EnumerateArray().Select(n => n.GetProperty("image_id").GetString()));
        Assert.DoesNotContain(library.Reencoded, view.GetProperty("near").EnumerateArray().Select(n => n.GetProperty("image_id").GetString()));
    }

    [Fact]
    public async Task A_dismissed_near_match_is_never_listed_again()
    {
        // The synthetic flowers share one layout, so some of them are near-duplicates of each other; dismiss one such pair.
        var near = (await GetAsync("/v1/duplicates?kind=near&limit=1000")).GetProperty("groups").EnumerateArray().ToList();
        var a = near.SelectMany(Members).First(id => id != library.Original && id != library.Reencoded && id != library.Resized);
        var ofA = (await GetAsync($"/v1/images/{a}")).GetProperty("duplicates").GetProperty("near").EnumerateArray().Select(n => n.GetProperty("image_id").GetString()!).ToList();
        var partner = ofA[0];
        Assert.Equal(HttpStatusCode.NoContent, (await Client.PostAsJsonAsync($"/v1/images/{a}/distinct", new { image_id = partner })).StatusCode);
        Assert.DoesNotContain(partner, (await GetAsync($"/v1/images/{a}")).GetProperty("duplicates").GetProperty("near").EnumerateArray().Select(n => n.GetProperty("image_id").GetString()));
        Assert.DoesNotContain(a, (await GetAsync($"/v1/images/{partner}")).GetProperty("duplicates").GetProperty("near").EnumerateArray().Select(n => n.GetProperty("image_id").GetString()));
        if (ofA.Count == 1)
            // a's only match was dismissed: a is in no group any more.
            Assert.DoesNotContain((await GetAsync("/v1/duplicates?kind=near&limit=1000")).GetProperty("groups").EnumerateArray(), g => Members(g).Contains(a));
    }

    [Fact]
    public async Task A_cursor_past_the_last_group_ends_the_listing_even_near_the_integer_limit()
    {
        var page = await GetAsync("/v1/duplicates?cursor=2147483000&limit=1000");
        Assert.Empty(page.GetProperty("groups").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, page.GetProperty("next_cursor").ValueKind);
    }

    private static List<string> Members(JsonElement group) =>
        group.GetProperty("images").EnumerateArray().Select(i => i.GetProperty("image_id").GetString()!).ToList();

    [Theory]
    [InlineData("/v1/duplicates?kind=fuzzy", 400, "kind")]
    [InlineData("/v1/duplicates?limit=0", 400, "limit")]
    [InlineData("/v1/duplicates?limit=many", 400, "limit")]
    [InlineData("/v1/duplicates?cursor=abc", 400, "cursor")]
    [InlineData("/v1/duplicates?collection=nope", 404, null)]
    public async Task A_bad_duplicates_parameter_is_a_problem_naming_it(string url, int status, string? parameter)
    {
        using var response = await Client.GetAsync(url);
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        if (parameter is not null) Assert.Equal(parameter, problem.GetProperty("parameter").GetString());
    }
}
