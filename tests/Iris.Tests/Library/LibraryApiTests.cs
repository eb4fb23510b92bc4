using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Iris.Tests.Support;

namespace Iris.Tests.Library;

/// <summary>The library's HTTP doors against a real server whose worker indexed the flowers and three photos.</summary>
public sealed class LibraryApiTests(LibraryFixture library) : IClassFixture<LibraryFixture>
{
    private HttpClient Client => library.Client;

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"{(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private async Task<JsonElement> SearchAsync(string query) => await JsonAsync(await Client.GetAsync("/v1/search?" + query), HttpStatusCode.OK);

    private static List<string> Ids(JsonElement search) => search.GetProperty("hits").EnumerateArray().Select(h => h.GetProperty("image_id").GetString()!).ToList();

    [Fact]
    public async Task The_same_bytes_added_again_answer_the_same_id_and_job_and_are_not_indexed_twice()
    {
        var path = Path.Combine(FlowerReference.Folder, "flower-03.png");
        using var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(await File.ReadAllBytesAsync(path)), "image", "again.png");
        var again = (await JsonAsync(await Client.PostAsync("/v1/images", form), HttpStatusCode.Accepted)).GetProperty("images")[0];
        Assert.Equal(library.Flowers["flower-03.png"], again.GetProperty("image_id").GetString());
        Assert.False(again.GetProperty("created").GetBoolean());
        Assert.Equal("indexed", again.GetProperty("state").GetString());
        var image = await Client.GetFromJsonAsync<JsonElement>($"/v1/images/{library.Flowers["flower-03.png"]}");
        Assert.Equal(again.GetProperty("job_id").GetString(), image.GetProperty("job_id").GetString());
        Assert.Equal("flower-03.png", image.GetProperty("file_name").GetString());
    }

    [Fact]
    public async Task An_indexed_image_shows_what_the_index_holds()
    {
        var dog = await Client.GetFromJsonAsync<JsonElement>($"/v1/images/{library.Real["dog.jpg"]}");
        Assert.Equal("indexed", dog.GetProperty("state").GetString());
        Assert.Equal("real", dog.GetProperty("collection").GetString());
        Assert.Equal(["pet", "garden"], dog.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        var index = dog.GetProperty("index");
        Assert.True(index.GetProperty("has_vector").GetBoolean());
        Assert.StartsWith("clip-tiny@", index.GetProperty("space").GetString());
        Assert.Contains("dog", index.GetProperty("labels").EnumerateArray().Select(l => l.GetString()));
        Assert.Equal(16, index.GetProperty("perceptual_hash").GetString()!.Length);
        Assert.False(string.IsNullOrEmpty(index.GetProperty("caption").GetString()));
        Assert.True(index.GetProperty("width").GetInt32() > 0);
        Assert.True(index.GetProperty("task_ms").TryGetProperty("embed", out _));
        var faces = await Client.GetFromJsonAsync<JsonElement>($"/v1/images/{library.Real["faces-13.jpg"]}");
        Assert.True(faces.GetProperty("index").GetProperty("face_count").GetInt32() > 0);
    }

    [Fact]
    public async Task Each_stored_field_names_the_model_that_made_it_among_those_its_job_ran()
    {
        var dog = await Client.GetFromJsonAsync<JsonElement>($"/v1/images/{library.Real["dog.jpg"]}");
        var job = await Client.GetFromJsonAsync<JsonElement>($"/v1/jobs/{dog.GetProperty("job_id").GetString()}");
        var ran = job.GetProperty("generated_by").EnumerateArray()
            .Select(m => (m.GetProperty("name").GetString(), m.GetProperty("version").GetString())).ToList();
        var models = dog.GetProperty("index").GetProperty("models");
        foreach (var field in new[] { "caption", "labels", "face_count" })
        {
            var model = models.GetProperty(field);
            Assert.Contains((model.GetProperty("name").GetString(), model.GetProperty("version").GetString()), ran);
        }
        Assert.NotEqual(models.GetProperty("caption").GetProperty("name").GetString(), models.GetProperty("labels").GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Null, models.GetProperty("ocr_text").ValueKind); // ocr is not in this server's Library:IndexTasks
    }

    [Fact]
    public async Task The_status_counts_each_state_without_listing_and_an_unfilled_collection_is_zeros_not_404()
    {
        foreach (var collection in new[] { "flowers", "real" })
        {
            var status = await JsonAsync(await Client.GetAsync($"/v1/library/status?collection={collection}"), HttpStatusCode.OK);
            Assert.Equal(collection, status.GetProperty("collection").GetString());
            long total = 0;
            foreach (var state in new[] { "queued", "indexed", "failed" })
            {
                var listed = await JsonAsync(await Client.GetAsync($"/v1/images?collection={collection}&state={state}&limit=1000"), HttpStatusCode.OK);
                Assert.Equal(listed.GetProperty("images").GetArrayLength(), status.GetProperty(state).GetInt64());
                total += status.GetProperty(state).GetInt64();
            }
            Assert.Equal(total, status.GetProperty("total").GetInt64());
            Assert.Equal("clip-tiny", status.GetProperty("space").GetProperty("model").GetString());
            Assert.Equal(JsonValueKind.Null, status.GetProperty("reindex").ValueKind);
        }
        Assert.Equal(library.Real.Count, (await JsonAsync(await Client.GetAsync("/v1/library/status?collection=real"), HttpStatusCode.OK)).GetProperty("indexed").GetInt64());
        var everything = await JsonAsync(await Client.GetAsync("/v1/library/status"), HttpStatusCode.OK);
        Assert.Equal(JsonValueKind.Null, everything.GetProperty("collection").ValueKind);
        Assert.True(everything.GetProperty("total").GetInt64() >= library.Flowers.Count + library.Real.Count);

        var empty = await JsonAsync(await Client.GetAsync("/v1/library/status?collection=named-but-empty"), HttpStatusCode.OK);
        Assert.Equal(0, empty.GetProperty("total").GetInt64());
        Assert.Equal(0, empty.GetProperty("queued").GetInt64());
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync("/v1/images?collection=named-but-empty")).StatusCode);
        var bad = await Client.GetAsync("/v1/library/status?collection=no%20spaces");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Each_reference_clip_query_finds_the_flower_its_reference_embedding_ranks_first()
    {
        Assert.Equal(10, FlowerReference.Queries.Count);
        foreach (var query in FlowerReference.Queries)
        {
            var expected = FlowerReference.Images.MaxBy(i => FlowerReference.Cosine(query.TextEmbeds, i.ClipImageEmbeds))!.File;
            var hits = await SearchAsync($"text={Uri.EscapeDataString(query.Text)}&mode=semantic&collection=flowers&k=3");
            Assert.True(library.Flowers[expected] == Ids(hits)[0], $"'{query.Text}': expected {expected} first, got {hits}");
        }
    }

    [Fact]
    public async Task An_image_query_finds_the_image_itself_first_and_more_like_this_leaves_it_out()
    {
        foreach (var file in new[] { "flower-00.png", "flower-07.png", "flower-15.png" })
        {
            using var body = new ByteArrayContent(await File.ReadAllBytesAsync(Path.Combine(FlowerReference.Folder, file)));
            body.Headers.ContentType = MediaTypeHeaderValue.Parse("image/png");
            var hits = await JsonAsync(await Client.PostAsync("/v1/search?k=5", body), HttpStatusCode.OK);
            Assert.Equal(library.Flowers[file], Ids(hits)[0]);
            Assert.True(hits.GetProperty("hits")[0].GetProperty("similarity").GetSingle() > 0.99f);
        }
        var like = await JsonAsync(await Client.PostAsJsonAsync("/v1/search?k=5&collection=flowers", new { image_id = library.Flowers["flower-00.png"] }), HttpStatusCode.OK);
        Assert.Equal(5, Ids(like).Count);
        Assert.DoesNotContain(library.Flowers["flower-00.png"], Ids(like));
    }

    [Fact]
    public async Task Hits_carry_score_matched_fields_and_url_and_filters_narrow_them()
    {
        var hybrid = await SearchAsync("text=dog&k=5");
        var top = hybrid.GetProperty("hits")[0];
        Assert.Equal(library.Real["dog.jpg"], top.GetProperty("image_id").GetString());
        Assert.Equal($"/images/{library.Real["dog.jpg"]}", top.GetProperty("url").GetString());
        Assert.Contains("labels", top.GetProperty("matched").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal("hybrid", hybrid.GetProperty("mode").GetString());

        Assert.Equal([library.Real["dog.jpg"]], Ids(await SearchAsync("text=garden&mode=text")));
        Assert.All(Ids(await SearchAsync("text=flower&collection=real&k=50")), id => Assert.Contains(id, library.Real.Values));
        Assert.Equal(3, Ids(await SearchAsync("text=flower&collection=real&k=50&mode=semantic")).Count);
        Assert.Equal([library.Real["dog.jpg"]], Ids(await SearchAsync("text=animal&label=dog&mode=semantic")));
        Assert.Contains(library.Real["faces-13.jpg"], Ids(await SearchAsync("text=people&has_faces=true&mode=semantic")));
        Assert.DoesNotContain(library.Real["faces-13.jpg"], Ids(await SearchAsync("text=people&has_faces=false&mode=semantic&k=100")));
        var all = await SearchAsync("text=flower&mode=semantic&k=100");
        var scores = all.GetProperty("hits").EnumerateArray().Select(h => h.GetProperty("score").GetSingle()).ToList();
        Assert.Equal(scores.OrderByDescending(s => s), scores);
        var cut = scores[5];
        Assert.Equal(scores.Count(s => s >= cut), Ids(await SearchAsync($"text=flower&mode=semantic&k=100&min_score={cut.ToString(System.Globalization.CultureInfo.InvariantCulture)}")).Count);
    }

    [Fact]
    public async Task Pages_follow_the_cursor_without_repeats()
    {
        var first = await SearchAsync("text=flower&mode=semantic&k=8&collection=flowers");
        var second = await SearchAsync($"text=flower&mode=semantic&k=8&collection=flowers&cursor={first.GetProperty("next_cursor").GetString()}");
        var third = await SearchAsync($"text=flower&mode=semantic&k=8&collection=flowers&cursor={second.GetProperty("next_cursor").GetString()}");
        var all = Ids(first).Concat(Ids(second)).Concat(Ids(third)).ToList();
        Assert.Equal(20, all.Count);
        Assert.Equal(20, all.Distinct().Count());
        Assert.Equal(JsonValueKind.Null, third.GetProperty("next_cursor").ValueKind);
        var listed = await Client.GetFromJsonAsync<JsonElement>("/v1/images?collection=flowers&limit=15");
        Assert.Equal(15, listed.GetProperty("images").GetArrayLength());
        var rest = await Client.GetFromJsonAsync<JsonElement>($"/v1/images?collection=flowers&limit=15&cursor={listed.GetProperty("next_cursor").GetString()}");
        Assert.Equal(5, rest.GetProperty("images").GetArrayLength());
    }

    [Fact]
    public async Task Dedupe_collapses_near_duplicates_and_a_dismissed_match_is_kept_apart()
    {
        const string query = "text=flower&mode=semantic&k=20&collection=flowers";
        var all = Ids(await SearchAsync(query));
        var deduped = Ids(await SearchAsync(query + "&dedupe=true"));
        Assert.Equal(20, all.Count);
        // The synthetic flowers share one layout, so some of them are near-duplicates by dHash (see PerceptualHashTests).
        Assert.InRange(deduped.Count, 1, 19);
        var hashes = new Dictionary<string, string>();
        foreach (var id in all)
            hashes[id] = (await Client.GetFromJsonAsync<JsonElement>($"/v1/images/{id}")).GetProperty("index").GetProperty("perceptual_hash").GetString()!;
        var dropped = all.Except(deduped).First();
        foreach (var kept in deduped.Where(k => Iris.Core.Library.PerceptualHash.Distance(hashes[k], hashes[dropped]) <= 6))
            Assert.Equal(HttpStatusCode.NoContent, (await Client.PostAsJsonAsync($"/v1/images/{kept}/distinct", new { image_id = dropped })).StatusCode);
        Assert.Contains(dropped, Ids(await SearchAsync(query + "&dedupe=true")));
        Assert.Equal(HttpStatusCode.BadRequest, (await Client.PostAsJsonAsync($"/v1/images/{dropped}/distinct", new { image_id = dropped })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.PostAsJsonAsync($"/v1/images/{dropped}/distinct", new { image_id = "0123456789abcdef0123456789abcdef" })).StatusCode);
    }

    [Theory]
    [InlineData("/v1/search?text=", 400, "text")]
    [InlineData("/v1/search?text=%20%20", 400, "text")]
    [InlineData("/v1/search?text=dog&k=0", 400, "k")]
    [InlineData("/v1/search?text=dog&k=1000000000", 400, "k")]
    [InlineData("/v1/search?text=dog&k=1e9", 400, "k")]
    [InlineData("/v1/search?text=dog&mode=fuzzy", 400, "mode")]
    [InlineData("/v1/search?text=dog&after=yesterday", 400, "after")]
    [InlineData("/v1/search?text=dog&cursor=abc", 400, "cursor")]
    [InlineData("/v1/search?text=dog&collection=nope", 404, null)]
    [InlineData("/v1/images?collection=nope", 404, null)]
    [InlineData("/v1/images?state=queued,indexed", 400, "state")]
    [InlineData("/v1/images/0123456789abcdef0123456789abcdef", 404, null)]
    [InlineData("/v1/images/not-an-id", 404, null)]
    [InlineData("/images/0123456789abcdef0123456789abcdef", 404, null)]
    [InlineData("/images/0123456789abcdef0123456789abcdef?w=0", 400, "w")]
    [InlineData("/api/v1/image/search", 422, "text")]
    public async Task Bad_input_is_a_problem_naming_what_was_wrong(string url, int status, string? parameter)
    {
        using var response = await Client.GetAsync(url);
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("detail").GetString()));
        if (parameter is not null) Assert.Equal(parameter, problem.GetProperty("parameter").GetString());
    }

    [Fact]
    public async Task A_text_query_over_2000_characters_is_refused_in_the_json_body_too()
    {
        var words = string.Join(" ", Enumerable.Range(0, 300_000).Select(i => $"w{i}"));
        using var body = new StringContent(System.Text.Json.JsonSerializer.Serialize(new { text = words }), Encoding.UTF8, "application/json");
        using var response = await Client.PostAsync("/v1/search?mode=text", body);
        var problem = await JsonAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("text", problem.GetProperty("parameter").GetString());
        Assert.Contains("at most 2000", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_json_body_that_gives_a_field_twice_is_refused_naming_it()
    {
        using var body = new StringContent("""{"url":"https://example.com/a.jpg","url":"https://example.com/b.jpg"}""", Encoding.UTF8, "application/json");
        using var response = await Client.PostAsync("/v1/images?collection=twice", body);
        var problem = await JsonAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("url", problem.GetProperty("parameter").GetString());
        Assert.Contains("more than once", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_query_image_that_does_not_decode_and_an_unknown_image_id_are_refused()
    {
        using var notImage = new ByteArrayContent(Encoding.UTF8.GetBytes("this is not an image"));
        notImage.Headers.ContentType = MediaTypeHeaderValue.Parse("application/octet-stream");
        using var refused = await Client.PostAsync("/v1/search", notImage);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, refused.StatusCode);
        var truncated = (await File.ReadAllBytesAsync(TestPaths.RealImage("dog.jpg")))[..4000];
        using var corrupt = new ByteArrayContent(truncated);
        corrupt.Headers.ContentType = MediaTypeHeaderValue.Parse("image/jpeg");
        using var undecodable = await Client.PostAsync("/v1/search", corrupt);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, undecodable.StatusCode);
        using var unknown = await Client.PostAsJsonAsync("/v1/search", new { image_id = "0123456789abcdef0123456789abcdef" });
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task An_image_that_fails_to_index_is_failed_with_the_reason()
    {
        var bytes = (await File.ReadAllBytesAsync(TestPaths.RealImage("faces-2.jpg")))[..3000];
        using var body = new ByteArrayContent(bytes);
        body.Headers.ContentType = MediaTypeHeaderValue.Parse("image/jpeg");
        var id = (await JsonAsync(await Client.PostAsync("/v1/images?collection=broken", body), HttpStatusCode.Accepted)).GetProperty("images")[0].GetProperty("image_id").GetString()!;
        var image = (await LibraryFixture.WaitIndexedAsync(Client, [id], TimeSpan.FromMinutes(1)))[id];
        Assert.Equal("failed", image.GetProperty("state").GetString());
        Assert.False(string.IsNullOrEmpty(image.GetProperty("error").GetString()));
        Assert.Empty(Ids(await SearchAsync("text=face&collection=broken&mode=semantic")));
    }

    [Fact]
    public async Task A_deleted_image_never_comes_back_in_a_search_nor_from_the_cdn()
    {
        var id = await LibraryFixture.AddAsync(Client, TestPaths.RealImage("coco-000000000285.jpg"), "doomed");
        await LibraryFixture.WaitIndexedAsync(Client, [id], TimeSpan.FromMinutes(1));
        using var bear = new ByteArrayContent(await File.ReadAllBytesAsync(TestPaths.RealImage("coco-000000000285.jpg")));
        bear.Headers.ContentType = MediaTypeHeaderValue.Parse("image/jpeg");
        Assert.Equal(id, Ids(await JsonAsync(await Client.PostAsync("/v1/search?k=1", bear), HttpStatusCode.OK))[0]);

        Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync($"/v1/images/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync($"/v1/images/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync($"/images/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.DeleteAsync($"/v1/images/{id}")).StatusCode);
        using var again = new ByteArrayContent(await File.ReadAllBytesAsync(TestPaths.RealImage("coco-000000000285.jpg")));
        again.Headers.ContentType = MediaTypeHeaderValue.Parse("image/jpeg");
        Assert.DoesNotContain(id, Ids(await JsonAsync(await Client.PostAsync("/v1/search?k=1000", again), HttpStatusCode.OK)));
        Assert.DoesNotContain(id, Ids(await SearchAsync("text=bear&k=1000")));
        var compat = await Client.GetFromJsonAsync<JsonElement>("/api/v1/image/search?text=bear&limit=1000");
        Assert.DoesNotContain(id, compat.EnumerateArray().Select(h => h.GetProperty("image_id").GetString()));
    }

    [Fact]
    public async Task Deleting_a_library_image_keeps_the_same_bytes_uploaded_through_the_image_service()
    {
        // Ids are content hashes: the upload and the library image share one blob.
        var bytes = await File.ReadAllBytesAsync(TestPaths.RealImage("coco-000000000724.jpg"));
        using var body = new ByteArrayContent(bytes);
        body.Headers.ContentType = MediaTypeHeaderValue.Parse("image/jpeg");
        var uploaded = (await JsonAsync(await Client.PostAsync("/api/v1/upload", body), HttpStatusCode.Created)).GetProperty("id").GetString()!;
        var id = await LibraryFixture.AddAsync(Client, TestPaths.RealImage("coco-000000000724.jpg"), "shared-bytes");
        Assert.Equal(uploaded, id);

        Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync($"/v1/images/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync($"/images/{id}")).StatusCode);
        // What /v1/img and iris:// sources read the upload's id from.
        var blobs = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Iris.Core.Storage.IBlobStore>(library.Host.App.Services);
        Assert.Equal(bytes, await blobs.GetAsync(uploaded, CancellationToken.None));
    }

    [Fact]
    public async Task Seed_002_search_answers_a_list_of_image_id_and_score_served_at_images_id()
    {
        using var response = await Client.GetAsync("/api/v1/image/search?text=a%20flower%20with%20five%20red%20petals");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var hits = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(JsonValueKind.Array, hits.ValueKind);
        Assert.Equal(10, hits.GetArrayLength());
        foreach (var hit in hits.EnumerateArray())
        {
            Assert.Equal(["image_id", "score"], hit.EnumerateObject().Select(p => p.Name));
            Assert.Equal(JsonValueKind.Number, hit.GetProperty("score").ValueKind);
        }
        var first = hits[0].GetProperty("image_id").GetString()!;
        var file = library.Flowers.Single(f => f.Value == first).Key;
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(FlowerReference.Folder, file)), await Client.GetByteArrayAsync($"/images/{first}"));
        Assert.Equal(3, (await Client.GetFromJsonAsync<JsonElement>("/api/v1/image/search?text=flower&limit=3")).GetArrayLength());
    }

    [Fact]
    public async Task The_cdn_serves_bytes_with_a_strong_etag_304_ranges_and_long_caching()
    {
        var id = library.Real["dog.jpg"];
        var bytes = await File.ReadAllBytesAsync(TestPaths.RealImage("dog.jpg"));
        using var full = await Client.GetAsync($"/images/{id}");
        Assert.Equal(HttpStatusCode.OK, full.StatusCode);
        Assert.Equal("image/jpeg", full.Content.Headers.ContentType?.MediaType);
        Assert.Equal($"\"{id}\"", full.Headers.ETag?.Tag);
        Assert.False(full.Headers.ETag!.IsWeak);
        Assert.Equal("bytes", full.Headers.AcceptRanges.Single());
        Assert.Contains("max-age=31536000", full.Headers.CacheControl!.ToString());
        Assert.True(full.Headers.CacheControl.Public);
        Assert.Equal(bytes, await full.Content.ReadAsByteArrayAsync());

        using var conditional = new HttpRequestMessage(HttpMethod.Get, $"/images/{id}");
        conditional.Headers.IfNoneMatch.Add(new EntityTagHeaderValue($"\"{id}\""));
        using var notModified = await Client.SendAsync(conditional);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);

        using var ranged = new HttpRequestMessage(HttpMethod.Get, $"/images/{id}");
        ranged.Headers.Range = new RangeHeaderValue(100, 199);
        using var partial = await Client.SendAsync(ranged);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(bytes[100..200], await partial.Content.ReadAsByteArrayAsync());
        Assert.Equal(bytes.Length, partial.Content.Headers.ContentRange!.Length);

        using var thumb = await Client.GetAsync($"/images/{id}?w=64");
        Assert.Equal(HttpStatusCode.OK, thumb.StatusCode);
        Assert.Equal("miss", thumb.Headers.GetValues("X-Cache").Single());
        Assert.Equal("64", thumb.Headers.GetValues("X-Image-Width").SingleOrDefault() ?? "64");
        using var cached = await Client.GetAsync($"/images/{id}?w=64");
        Assert.Equal("hit", cached.Headers.GetValues("X-Cache").Single());
        Assert.Equal(await thumb.Content.ReadAsByteArrayAsync(), await cached.Content.ReadAsByteArrayAsync());
        Assert.True((await cached.Content.ReadAsByteArrayAsync()).Length < bytes.Length);
    }

    [Fact]
    public async Task An_idempotency_key_replays_the_first_answer_and_a_url_is_fetched_under_the_sources_rules()
    {
        using var first = new ByteArrayContent(await File.ReadAllBytesAsync(TestPaths.RealImage("faces-16.jpg")));
        first.Headers.ContentType = MediaTypeHeaderValue.Parse("image/jpeg");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/images?collection=keyed") { Content = first };
        request.Headers.Add("Idempotency-Key", "upload-1");
        var answer = await JsonAsync(await Client.SendAsync(request), HttpStatusCode.Accepted);
        using var other = new ByteArrayContent(await File.ReadAllBytesAsync(TestPaths.RealImage("faces-19.jpg")));
        other.Headers.ContentType = MediaTypeHeaderValue.Parse("image/jpeg");
        using var replay = new HttpRequestMessage(HttpMethod.Post, "/v1/images?collection=keyed") { Content = other };
        replay.Headers.Add("Idempotency-Key", "upload-1");
        var replayed = await JsonAsync(await Client.SendAsync(replay), HttpStatusCode.Accepted);
        Assert.Equal(answer.GetProperty("images")[0].GetProperty("image_id").GetString(), replayed.GetProperty("images")[0].GetProperty("image_id").GetString());

        // Loopback is a private address: refused by the Sources rules unless allowed.
        using var local = await Client.PostAsJsonAsync("/v1/images", new { url = Client.BaseAddress + "images/" + library.Real["dog.jpg"] });
        Assert.Equal(HttpStatusCode.Forbidden, local.StatusCode);
    }
}
