using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Iris.Tests.Support;

namespace Iris.Tests.Library;

/// <summary>With access control on, each image is its owner's: others cannot read, find, serve or delete it.</summary>
public sealed class LibraryAccessTests : IDisposable
{
    private const string AliceKey = "alice-library-key-0123456789";
    private const string BobKey = "bob-library-key-0123456789";
    private readonly TempDirectory _data = new();

    public void Dispose() => _data.Dispose();

    private static HttpRequestMessage Request(HttpMethod method, string url, string key, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, url) { Content = content };
        request.Headers.Add("X-Api-Key", key);
        return request;
    }

    private static ByteArrayContent Flower(int n)
    {
        var content = new ByteArrayContent(File.ReadAllBytes(Path.Combine(FlowerReference.Folder, $"flower-{n:00}.png")));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("image/png");
        return content;
    }

    [Fact]
    public async Task Another_caller_cannot_read_find_serve_or_delete_an_image()
    {
        await using var host = await IrisTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Auth:ApiKeys:alice"] = AliceKey,
            ["Auth:ApiKeys:bob"] = BobKey,
            ["Jobs:Database"] = _data.File("jobs.db"),
            ["Jobs:InputDirectory"] = _data.File("inputs"),
            ["Storage:Directory"] = _data.File("images"),
            ["Library:IndexTasks"] = "embed",
            ["Jobs:PollIntervalMs"] = "50",
        });
        var client = host.Client;
        using var added = await client.SendAsync(Request(HttpMethod.Post, "/v1/images?collection=alices", AliceKey, Flower(0)));
        Assert.Equal(HttpStatusCode.Accepted, added.StatusCode);
        var id = (await added.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("images")[0].GetProperty("image_id").GetString()!;
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while ((await (await client.SendAsync(Request(HttpMethod.Get, $"/v1/images/{id}", AliceKey))).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("state").GetString() == "queued")
        {
            Assert.True(DateTime.UtcNow < deadline, "not indexed in time");
            await Task.Delay(200);
        }

        using var served = await client.SendAsync(Request(HttpMethod.Get, $"/images/{id}", AliceKey));
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.True(served.Headers.CacheControl!.Private);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync($"/images/{id}")).StatusCode);

        Assert.Equal(HttpStatusCode.NotFound, (await client.SendAsync(Request(HttpMethod.Get, $"/v1/images/{id}", BobKey))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.SendAsync(Request(HttpMethod.Get, $"/images/{id}", BobKey))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.SendAsync(Request(HttpMethod.Get, $"/images/{id}?w=32", BobKey))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.SendAsync(Request(HttpMethod.Delete, $"/v1/images/{id}", BobKey))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.SendAsync(Request(HttpMethod.Get, "/v1/search?text=flower&collection=alices", BobKey))).StatusCode);
        var bobs = await (await client.SendAsync(Request(HttpMethod.Get, "/v1/search?text=flower&mode=semantic", BobKey))).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(0, bobs.GetProperty("hits").GetArrayLength());
        var compat = await (await client.SendAsync(Request(HttpMethod.Get, "/api/v1/image/search?text=flower", BobKey))).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(0, compat.GetArrayLength());
        Assert.Equal(0, (await (await client.SendAsync(Request(HttpMethod.Get, "/v1/images", BobKey))).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("images").GetArrayLength());
        var alices = await (await client.SendAsync(Request(HttpMethod.Get, "/v1/search?text=flower&mode=semantic", AliceKey))).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(id, alices.GetProperty("hits")[0].GetProperty("image_id").GetString());
    }
}

/// <summary>The library with Jobs:Store=postgres: its rows and full text in PostgreSQL, indexed by the job system.</summary>
public sealed class LibraryPostgresTests : IAsyncLifetime
{
    private string _database = "";
    private readonly TempDirectory _data = new();

    public async Task InitializeAsync() => _database = await TestServices.CreateDatabaseAsync();

    public async Task DisposeAsync()
    {
        await TestServices.DropDatabaseAsync(_database);
        _data.Dispose();
    }

    [Fact]
    public async Task Ingest_index_hybrid_search_and_delete_work_with_the_postgres_store()
    {
        await using var host = await IrisTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Jobs:Store"] = "postgres",
            ["Jobs:Postgres:ConnectionString"] = _database,
            ["Jobs:Queue"] = "redis",
            ["Jobs:Redis:ConnectionString"] = TestServices.Redis,
            ["Jobs:Redis:Stream"] = "iris-library-" + Guid.NewGuid().ToString("N")[..8],
            ["Jobs:Database"] = _data.File("jobs.db"),
            ["Storage:Directory"] = _data.File("images"),
            ["Library:IndexTasks"] = "embed,describe",
            ["Jobs:PollIntervalMs"] = "50",
        });
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
            ids.Add(await LibraryFixture.AddAsync(host.Client, Path.Combine(FlowerReference.Folder, $"flower-{i:00}.png"), "pg", tags: i == 0 ? "favourite" : null));
        var images = await LibraryFixture.WaitIndexedAsync(host.Client, ids, TimeSpan.FromMinutes(3));
        Assert.All(images.Values, i => Assert.Equal("indexed", i.GetProperty("state").GetString()));

        var hybrid = await host.Client.GetFromJsonAsync<JsonElement>("/v1/search?text=flower%20petals&collection=pg");
        var hits = hybrid.GetProperty("hits").EnumerateArray().ToList();
        Assert.Equal(ids.Order(), hits.Select(h => h.GetProperty("image_id").GetString()).Order());
        Assert.All(hits, h => Assert.Contains("caption", h.GetProperty("matched").EnumerateArray().Select(m => m.GetString())));
        var tagged = await host.Client.GetFromJsonAsync<JsonElement>("/v1/search?text=favourite&mode=text");
        Assert.Equal([ids[0]], tagged.GetProperty("hits").EnumerateArray().Select(h => h.GetProperty("image_id").GetString()));

        Assert.Equal(HttpStatusCode.NoContent, (await host.Client.DeleteAsync($"/v1/images/{ids[0]}")).StatusCode);
        var after = await host.Client.GetFromJsonAsync<JsonElement>("/v1/search?text=flower%20petals&collection=pg");
        Assert.Equal(ids.Skip(1).Order(), after.GetProperty("hits").EnumerateArray().Select(h => h.GetProperty("image_id").GetString()).Order());
    }
}
