using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Iris.Tests.Support;

namespace Iris.Tests.Library;

/// <summary>
/// The library end to end on <c>Library:Index=pgvector</c>: a server whose worker indexes the 20 flowers into PGlite's
/// pgvector (behind pglite-socket, IRIS_TEST_PGVECTOR) instead of the embedded index. PGlite is one PostgreSQL session:
/// tools/pglite/server.mjs queues whole connections (IRIS_TEST_PGVECTOR has Pooling=false), so the two workers' and the
/// API's index operations run one after another there, never interleaved. The test has its own schema.
/// </summary>
public sealed class PgVectorLibraryTests : IAsyncLifetime
{
    private readonly TempDirectory _data = new();
    private readonly string _schema = "library_" + Guid.NewGuid().ToString("N")[..12];
    private IrisTestHost _host = null!;
    private readonly Dictionary<string, string> _flowers = [];

    public async Task InitializeAsync()
    {
        await ExecuteAsync("CREATE EXTENSION IF NOT EXISTS vector SCHEMA public"); // shared by the tests' schemas
        _host = await IrisTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Library:Index"] = "pgvector",
            ["Library:IndexPostgres"] = TestServices.PgVector,
            ["Library:IndexSchema"] = _schema,
            ["Library:IndexTasks"] = "embed",
            ["Jobs:Workers"] = "2",
            ["Jobs:PollIntervalMs"] = "50",
            ["Storage:Directory"] = Path.Combine(_data.Path, "images"),
            ["Transforms:CacheDirectory"] = Path.Combine(_data.Path, "transform-cache"),
        });
        foreach (var image in FlowerReference.Images)
            _flowers[image.File] = await LibraryFixture.AddAsync(_host.Client, Path.Combine(FlowerReference.Folder, image.File), "flowers");
        var indexed = await LibraryFixture.WaitIndexedAsync(_host.Client, _flowers.Values, TimeSpan.FromMinutes(4));
        Assert.All(indexed.Values, i => Assert.True(i.GetProperty("state").GetString() == "indexed", i.ToString()));
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await ExecuteAsync($"DROP SCHEMA IF EXISTS {_schema} CASCADE");
        _data.Dispose();
    }

    private static async Task ExecuteAsync(string sql)
    {
        await using var connection = new Npgsql.NpgsqlConnection(TestServices.PgVector);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Rows in the test schema's vector tables: proof the vectors went to pgvector, not the embedded index.</summary>
    private async Task<long> PgVectorRowsAsync()
    {
        await using var connection = new Npgsql.NpgsqlConnection(TestServices.PgVector);
        await connection.OpenAsync();
        var tables = new List<string>();
        // The index's registry names each embedding space's table.
        await using (var list = new Npgsql.NpgsqlCommand($"SELECT table_name FROM {_schema}.iris_vector_spaces", connection))
        {
            await using var reader = await list.ExecuteReaderAsync();
            while (await reader.ReadAsync()) tables.Add(reader.GetString(0) is var name && name.Contains('.') ? name : $"{_schema}.{name}");
        }
        long rows = 0;
        foreach (var table in tables)
        {
            await using var count = new Npgsql.NpgsqlCommand($"SELECT count(*) FROM {table}", connection);
            rows += (long)(await count.ExecuteScalarAsync())!;
        }
        return rows;
    }

    private async Task<List<string>> IdsAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("hits").EnumerateArray().Select(h => h.GetProperty("image_id").GetString()!).ToList();
    }

    private async Task<List<string>> ByExampleAsync(string file)
    {
        using var body = new ByteArrayContent(await File.ReadAllBytesAsync(Path.Combine(FlowerReference.Folder, file)));
        body.Headers.ContentType = MediaTypeHeaderValue.Parse("image/png");
        return await IdsAsync(await _host.Client.PostAsync("/v1/search?k=20&mode=semantic", body));
    }

    [Fact]
    public async Task Each_reference_clip_query_finds_its_flower_first_and_a_deleted_flower_never_returns()
    {
        var status = await _host.Client.GetFromJsonAsync<JsonElement>("/v1/library/status?collection=flowers");
        Assert.Equal(FlowerReference.Images.Count, status.GetProperty("indexed").GetInt64());
        Assert.Equal(FlowerReference.Images.Count, await PgVectorRowsAsync());
        foreach (var query in FlowerReference.Queries)
        {
            var expected = FlowerReference.Images.MaxBy(i => FlowerReference.Cosine(query.TextEmbeds, i.ClipImageEmbeds))!.File;
            var hits = await IdsAsync(await _host.Client.GetAsync($"/v1/search?text={Uri.EscapeDataString(query.Text)}&mode=semantic&collection=flowers&k=3"));
            Assert.True(_flowers[expected] == hits[0], $"'{query.Text}': expected {expected} first, got [{string.Join(", ", hits)}]");
        }

        var doomed = FlowerReference.Images[0].File;
        Assert.Equal(_flowers[doomed], (await ByExampleAsync(doomed))[0]);
        Assert.Equal(HttpStatusCode.NoContent, (await _host.Client.DeleteAsync($"/v1/images/{_flowers[doomed]}")).StatusCode);
        Assert.DoesNotContain(_flowers[doomed], await ByExampleAsync(doomed));
        foreach (var query in FlowerReference.Queries)
            Assert.DoesNotContain(_flowers[doomed], await IdsAsync(await _host.Client.GetAsync($"/v1/search?text={Uri.EscapeDataString(query.Text)}&mode=semantic&k=20")));
        Assert.Equal(FlowerReference.Images.Count - 1,
            (await _host.Client.GetFromJsonAsync<JsonElement>("/v1/library/status?collection=flowers")).GetProperty("total").GetInt64());
        Assert.Equal(FlowerReference.Images.Count - 1, await PgVectorRowsAsync());
    }
}
