using Iris.Core.Library.Vectors;
using Iris.Tests.Support;

namespace Iris.Tests.Library.Vectors;

/// <summary>
/// What every <see cref="IVectorIndex"/> must do, run against each implementation on its real storage. A subclass only
/// says how to open an index over its storage; <see cref="OpenAsync"/> may be called again for a second client of the
/// same storage (another process, or the same one after a restart).
/// </summary>
public abstract class VectorIndexContractTests : IAsyncLifetime
{
    protected static readonly EmbeddingSpace Clip = new("clip-vit-b32", "1", 8);
    protected static readonly EmbeddingSpace OtherModel = new("siglip", "2", 4);
    private static readonly VectorAttributes Plain = new("alice", "photos", null, 0, []);

    protected IVectorIndex Index { get; private set; } = null!;
    private readonly List<IVectorIndex> _opened = [];

    /// <summary>A new client of this test's storage.</summary>
    protected abstract Task<IVectorIndex> OpenIndexAsync();
    protected virtual Task CreateStorageAsync() => Task.CompletedTask;
    protected virtual Task DeleteStorageAsync() => Task.CompletedTask;

    protected async Task<IVectorIndex> OpenAsync()
    {
        var index = await OpenIndexAsync();
        _opened.Add(index);
        return index;
    }

    public async Task InitializeAsync()
    {
        await CreateStorageAsync();
        Index = await OpenAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var index in _opened)
            if (index is IAsyncDisposable disposable) await disposable.DisposeAsync();
        await DeleteStorageAsync();
    }

    [Fact]
    public async Task Search_returns_the_nearest_vectors_best_first_with_their_dot_product()
    {
        var vectors = RandomUnitVectors(50, Clip.Dimensions, seed: 1);
        for (var i = 0; i < vectors.Length; i++) await Index.UpsertAsync(Clip, $"img{i}", vectors[i], Plain, default);

        var query = vectors[7];
        var hits = await Index.SearchAsync(Clip, query, 5, VectorFilter.None, default);

        var expected = Enumerable.Range(0, vectors.Length).OrderByDescending(i => Dot(vectors[i], query)).Take(5).Select(i => $"img{i}");
        Assert.Equal(expected, hits.Select(h => h.ImageId));
        Assert.Equal("img7", hits[0].ImageId);
        Assert.Equal(1f, hits[0].Score, 0.001f);
        Assert.Equal(Dot(vectors[int.Parse(hits[3].ImageId[3..])], query), hits[3].Score, 0.001f);
        Assert.Equal(50, await Index.CountAsync(Clip, default));
    }

    [Fact]
    public async Task Upsert_of_a_known_image_replaces_its_vector_and_attributes()
    {
        var (a, b) = (Axis(0), Axis(1));
        await Index.UpsertAsync(Clip, "img", a, Plain with { Collection = "old" }, default);
        await Index.UpsertAsync(Clip, "img", b, Plain with { Collection = "new" }, default);

        Assert.Equal(1, await Index.CountAsync(Clip, default));
        Assert.Equal(b, await Index.GetAsync(Clip, "img", default));
        var hit = Assert.Single(await Index.SearchAsync(Clip, b, 10, new VectorFilter(Collection: "new"), default));
        Assert.Equal(1f, hit.Score, 0.001f);
        Assert.Empty(await Index.SearchAsync(Clip, b, 10, new VectorFilter(Collection: "old"), default));
    }

    [Fact]
    public async Task A_deleted_image_never_comes_back_in_any_space()
    {
        await Index.UpsertAsync(Clip, "gone", Axis(0), Plain, default);
        await Index.UpsertAsync(OtherModel, "gone", new float[] { 1, 0, 0, 0 }, Plain, default);
        await Index.UpsertAsync(Clip, "kept", Axis(1), Plain, default);

        await Index.DeleteAsync("gone", default);

        Assert.Equal(["kept"], (await Index.SearchAsync(Clip, Axis(0), 10, VectorFilter.None, default)).Select(h => h.ImageId));
        Assert.Empty(await Index.SearchAsync(OtherModel, new float[] { 1, 0, 0, 0 }, 10, VectorFilter.None, default));
        Assert.Null(await Index.GetAsync(Clip, "gone", default));
        Assert.Equal(1, await Index.CountAsync(Clip, default));
        // Deleting again, or an image never stored, is not an error.
        await Index.DeleteAsync("gone", default);
        await Index.DeleteAsync("never-stored", default);
        // Nor does a restart bring it back.
        var reopened = await OpenAsync();
        Assert.Equal(["kept"], (await reopened.SearchAsync(Clip, Axis(0), 10, VectorFilter.None, default)).Select(h => h.ImageId));
    }

    [Fact]
    public async Task Each_filter_field_keeps_only_the_matching_images()
    {
        var jan = new DateTimeOffset(2024, 1, 15, 0, 0, 0, TimeSpan.Zero);
        var jun = new DateTimeOffset(2024, 6, 15, 0, 0, 0, TimeSpan.Zero);
        await Index.UpsertAsync(Clip, "a", Axis(0), new VectorAttributes("alice", "pets", jan, 0, ["dog", "grass"]), default);
        await Index.UpsertAsync(Clip, "b", Axis(1), new VectorAttributes("alice", "trips", jun, 2, ["beach"]), default);
        await Index.UpsertAsync(Clip, "c", Axis(2), new VectorAttributes("bob", "pets", null, 1, ["Dog"]), default);

        async Task<string[]> Ids(VectorFilter filter) =>
            (await Index.SearchAsync(Clip, Axis(3), 10, filter, default)).Select(h => h.ImageId).Order().ToArray();

        Assert.Equal(["a", "b", "c"], await Ids(VectorFilter.None));
        Assert.Equal(["a", "b"], await Ids(new VectorFilter(Owner: "alice")));
        Assert.Equal(["a", "c"], await Ids(new VectorFilter(Collection: "pets")));
        Assert.Equal(["a", "c"], await Ids(new VectorFilter(Label: "dog")));
        Assert.Equal(["a", "c"], await Ids(new VectorFilter(Label: "DOG")));
        Assert.Equal(["b"], await Ids(new VectorFilter(After: jan.AddDays(1))));
        Assert.Equal(["a"], await Ids(new VectorFilter(Before: jan.AddDays(1))));
        Assert.Equal(["a"], await Ids(new VectorFilter(After: jan, Before: jun)));
        Assert.Equal(["b", "c"], await Ids(new VectorFilter(HasFaces: true)));
        Assert.Equal(["a"], await Ids(new VectorFilter(HasFaces: false)));
        Assert.Equal(["c"], await Ids(new VectorFilter(Owner: "bob", Collection: "pets", Label: "dog", HasFaces: true)));
        Assert.Empty(await Ids(new VectorFilter(Owner: "alice", Collection: "pets", HasFaces: true)));
        Assert.Empty(await Ids(new VectorFilter(Owner: "nobody")));
        Assert.Empty(await Ids(new VectorFilter(Label: "cat")));
    }

    [Fact]
    public async Task A_one_percent_filter_still_returns_a_full_page_of_the_best_matches()
    {
        const int count = 3000, rare = 30, k = 20;
        var vectors = RandomUnitVectors(count, Clip.Dimensions, seed: 2);
        await UpsertManyAsync(Clip, Enumerable.Range(0, count).Select(i =>
            ($"img{i}", vectors[i], Plain with { Collection = i % (count / rare) == 0 ? "rare" : "common" })).ToList());
        var query = RandomUnitVectors(1, Clip.Dimensions, seed: 3)[0];

        var hits = await Index.SearchAsync(Clip, query, k, new VectorFilter(Collection: "rare"), default);

        var expected = Enumerable.Range(0, count).Where(i => i % (count / rare) == 0)
            .OrderByDescending(i => Dot(vectors[i], query)).Take(k).Select(i => $"img{i}");
        Assert.Equal(expected, hits.Select(h => h.ImageId));
    }

    [Fact]
    public async Task Spaces_are_isolated_and_dropping_one_leaves_the_others()
    {
        await Index.UpsertAsync(Clip, "img", Axis(0), Plain, default);
        await Index.UpsertAsync(OtherModel, "img", new float[] { 0, 1, 0, 0 }, Plain, default);
        await Index.UpsertAsync(OtherModel, "only-other", new float[] { 1, 0, 0, 0 }, Plain, default);

        Assert.Equal(["img"], (await Index.SearchAsync(Clip, Axis(0), 10, VectorFilter.None, default)).Select(h => h.ImageId));
        Assert.Equal(Axis(0), await Index.GetAsync(Clip, "img", default));
        Assert.Equal(new float[] { 0, 1, 0, 0 }, await Index.GetAsync(OtherModel, "img", default));
        var sameModelNewVersion = Clip with { Version = "2" };
        Assert.Equal(0, await Index.CountAsync(sameModelNewVersion, default));
        Assert.Empty(await Index.SearchAsync(sameModelNewVersion, Axis(0), 10, VectorFilter.None, default));

        await Index.DropSpaceAsync(Clip, default);

        Assert.Equal(0, await Index.CountAsync(Clip, default));
        Assert.Empty(await Index.SearchAsync(Clip, Axis(0), 10, VectorFilter.None, default));
        Assert.Equal(2, await Index.CountAsync(OtherModel, default));
        // A dropped space can be built again from nothing.
        await Index.UpsertAsync(Clip, "again", Axis(1), Plain, default);
        Assert.Equal(["again"], (await Index.SearchAsync(Clip, Axis(0), 10, VectorFilter.None, default)).Select(h => h.ImageId));
    }

    [Fact]
    public async Task A_vector_of_the_wrong_dimension_or_not_finite_is_refused_and_nothing_is_stored()
    {
        var wrong = await Assert.ThrowsAsync<InvalidVectorException>(() => Index.UpsertAsync(Clip, "img", new float[4], Plain, default));
        Assert.Contains("4 dimensions", wrong.Message);
        Assert.Contains("8", wrong.Message);
        var nan = Axis(0);
        nan[3] = float.NaN;
        await Assert.ThrowsAsync<InvalidVectorException>(() => Index.UpsertAsync(Clip, "img", nan, Plain, default));
        var infinite = Axis(0);
        infinite[1] = float.PositiveInfinity;
        await Assert.ThrowsAsync<InvalidVectorException>(() => Index.UpsertAsync(Clip, "img", infinite, Plain, default));
        await Assert.ThrowsAsync<InvalidVectorException>(() => Index.SearchAsync(Clip, new float[9], 10, VectorFilter.None, default));
        await Assert.ThrowsAsync<InvalidVectorException>(() => Index.SearchAsync(Clip, nan, 10, VectorFilter.None, default));

        Assert.Equal(0, await Index.CountAsync(Clip, default));
    }

    [Fact]
    public async Task Vectors_survive_closing_and_reopening_the_index()
    {
        var vectors = RandomUnitVectors(20, Clip.Dimensions, seed: 4);
        var taken = new DateTimeOffset(2023, 5, 1, 12, 0, 0, TimeSpan.Zero);
        for (var i = 0; i < vectors.Length; i++)
            await Index.UpsertAsync(Clip, $"img{i}", vectors[i], new VectorAttributes("alice", "c", taken, i % 2, [$"l{i}"]), default);
        var before = await Index.SearchAsync(Clip, vectors[0], 5, VectorFilter.None, default);

        var reopened = await OpenAsync();

        Assert.Equal(20, await reopened.CountAsync(Clip, default));
        Assert.Equal(before, await reopened.SearchAsync(Clip, vectors[0], 5, VectorFilter.None, default));
        Assert.Equal(vectors[3], await reopened.GetAsync(Clip, "img3", default));
        Assert.Equal(["img5"], (await reopened.SearchAsync(Clip, vectors[0], 5,
            new VectorFilter(Label: "l5", HasFaces: true, After: taken, Before: taken.AddSeconds(1)), default)).Select(h => h.ImageId));
    }

    [Fact]
    public async Task Writes_through_one_client_are_seen_by_another_before_it_answers()
    {
        var other = await OpenAsync();
        Assert.Equal(0, await other.CountAsync(Clip, default));

        await Index.UpsertAsync(Clip, "new", Axis(2), Plain, default);
        Assert.Equal(["new"], (await other.SearchAsync(Clip, Axis(2), 10, VectorFilter.None, default)).Select(h => h.ImageId));

        await Index.DeleteAsync("new", default);
        Assert.Empty(await other.SearchAsync(Clip, Axis(2), 10, VectorFilter.None, default));

        await other.UpsertAsync(Clip, "back", Axis(1), Plain, default);
        await Index.DropSpaceAsync(Clip, default);
        Assert.Equal(0, await other.CountAsync(Clip, default));
    }

    [Fact]
    public async Task Searches_during_writes_always_answer_consistently()
    {
        var vectors = RandomUnitVectors(300, Clip.Dimensions, seed: 5);
        await Index.UpsertAsync(Clip, "anchor", vectors[0], Plain, default);
        using var writing = new CancellationTokenSource();

        var writer = Task.Run(async () =>
        {
            for (var i = 1; i < vectors.Length; i++)
            {
                await Index.UpsertAsync(Clip, $"img{i}", vectors[i], Plain, default);
                if (i % 3 == 0) await Index.DeleteAsync($"img{i - 1}", default);
            }
        });
        var readers = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
        {
            var searches = 0;
            while (!writer.IsCompleted || searches == 0)
            {
                var hits = await Index.SearchAsync(Clip, vectors[0], 10, VectorFilter.None, default);
                // The anchor is never touched: every answer has it first, with its own score, and no duplicates.
                Assert.Equal("anchor", hits[0].ImageId);
                Assert.Equal(1f, hits[0].Score, 0.001f);
                Assert.Equal(hits.Count, hits.Select(h => h.ImageId).Distinct().Count());
                searches++;
            }
            return searches;
        })).ToArray();

        await writer;
        var done = await Task.WhenAll(readers);

        Assert.All(done, searches => Assert.True(searches > 0));
        Assert.Equal(1 + 299 - 99, await Index.CountAsync(Clip, default));
    }

    /// <summary>Many vectors at once (an implementation may override with its bulk path to keep the tests fast).</summary>
    protected virtual async Task UpsertManyAsync(EmbeddingSpace space, IReadOnlyList<(string Id, float[] Vector, VectorAttributes Attributes)> entries)
    {
        foreach (var (id, vector, attributes) in entries) await Index.UpsertAsync(space, id, vector, attributes, default);
    }

    protected static float[] Axis(int i)
    {
        var v = new float[Clip.Dimensions];
        v[i] = 1;
        return v;
    }

    internal static float[][] RandomUnitVectors(int count, int dimensions, int seed)
    {
        var random = new Random(seed);
        var vectors = new float[count][];
        for (var i = 0; i < count; i++)
        {
            var v = new float[dimensions];
            for (var d = 0; d < dimensions; d++) v[d] = (float)(random.NextDouble() * 2 - 1);
            var norm = MathF.Sqrt(v.Sum(x => x * x));
            for (var d = 0; d < dimensions; d++) v[d] /= norm;
            vectors[i] = v;
        }
        return vectors;
    }

    private static float Dot(float[] a, float[] b) => a.Zip(b, (x, y) => x * y).Sum();
}

/// <summary>The embedded index on a SQLite file of its own, with floats or (<paramref name="quantize"/>) int8 codes in memory.</summary>
public abstract class EmbeddedIndexContractTests(bool quantize) : VectorIndexContractTests
{
    private readonly TempDirectory _directory = new();

    protected override Task<IVectorIndex> OpenIndexAsync() =>
        Task.FromResult<IVectorIndex>(new EmbeddedVectorIndex(Path.Combine(_directory.Path, "data", "vectors.db"), quantize: quantize));

    protected override Task DeleteStorageAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _directory.Dispose();
        return Task.CompletedTask;
    }

    protected override Task UpsertManyAsync(EmbeddingSpace space, IReadOnlyList<(string Id, float[] Vector, VectorAttributes Attributes)> entries) =>
        ((EmbeddedVectorIndex)Index).UpsertManyAsync(space, entries.Select(e => new VectorEntry(e.Id, e.Vector, e.Attributes)).ToList(), default);
}

public sealed class EmbeddedVectorIndexTests() : EmbeddedIndexContractTests(quantize: false)
{

    [Fact]
    public async Task A_scan_over_several_blocks_in_parallel_finds_the_same_hits_as_one_thread()
    {
        var space = new EmbeddingSpace("clip", "1", 16);
        var count = SpaceVectors.BlockRows * 2 + 1000;
        var vectors = RandomUnitVectors(count, space.Dimensions, seed: 6);
        var parallel = (EmbeddedVectorIndex)Index;
        await parallel.UpsertManyAsync(space, vectors.Select((v, i) =>
            new VectorEntry($"img{i}", v, new VectorAttributes("o", i % 100 == 0 ? "rare" : "c", null, 0, []))).ToList(), default);
        await using var single = new EmbeddedVectorIndex(parallel.Path, maxThreads: 1);

        foreach (var query in RandomUnitVectors(5, space.Dimensions, seed: 7))
        {
            Assert.Equal(await single.SearchAsync(space, query, 25, VectorFilter.None, default),
                await parallel.SearchAsync(space, query, 25, VectorFilter.None, default));
            var rare = await parallel.SearchAsync(space, query, 25, new VectorFilter(Collection: "rare"), default);
            Assert.Equal(25, rare.Count);
            Assert.Equal(await single.SearchAsync(space, query, 25, new VectorFilter(Collection: "rare"), default), rare);
        }
    }
}

/// <summary>The embedded index with int8 codes in memory and a float re-rank (Library:Quantize=true): the same contract.</summary>
public sealed class QuantizedEmbeddedVectorIndexTests() : EmbeddedIndexContractTests(quantize: true)
{
    [Fact]
    public async Task With_the_re_rank_the_top_10_equals_the_float_index_top_10_on_20k_random_512_d_vectors()
    {
        var space = new EmbeddingSpace("clip", "1", 512);
        const int count = 20_000, negatives = 200, k = 10;
        var vectors = RandomUnitVectors(count, space.Dimensions, seed: 11);
        // Vectors whose largest component is negative: a scale taken from max x instead of max |x| zeroes their codes.
        for (var i = 0; i < negatives; i++) vectors[i] = NegativeDominant(vectors[i], axis: i % space.Dimensions);
        var quantized = (EmbeddedVectorIndex)Index;
        await quantized.UpsertManyAsync(space, vectors.Select((v, i) =>
            new VectorEntry($"img{i}", v, new VectorAttributes("o", "c", null, 0, []))).ToList(), default);
        await using var floats = new EmbeddedVectorIndex(quantized.Path);

        var random = RandomUnitVectors(100, space.Dimensions, seed: 12);
        var noise = RandomUnitVectors(negatives, space.Dimensions, seed: 13);
        var nearNegatives = Enumerable.Range(0, negatives).Select(i => Normalized(vectors[i].Zip(noise[i], (v, n) => v + 0.3f * n).ToArray())).ToArray();
        foreach (var query in random.Concat(nearNegatives))
            Assert.Equal(await floats.SearchAsync(space, query, k, VectorFilter.None, default),
                await quantized.SearchAsync(space, query, k, VectorFilter.None, default));
        for (var i = 0; i < negatives; i++)
            Assert.Equal($"img{i}", (await quantized.SearchAsync(space, nearNegatives[i], k, VectorFilter.None, default))[0].ImageId);
    }

    [Fact]
    public void A_vector_whose_largest_component_is_negative_keeps_its_codes()
    {
        float[] vector = [-0.8f, 0.6f, 0f, 0.05f];
        var codes = new sbyte[vector.Length];

        var scale = SpaceVectors.Quantize(vector, codes);

        Assert.Equal(0.8f / 127, scale, 1e-7f);
        Assert.Equal(new sbyte[] { -127, 95, 0, 8 }, codes);
    }

    private static float[] NegativeDominant(float[] vector, int axis)
    {
        var v = (float[])vector.Clone();
        v[axis] = -1f;
        return Normalized(v);
    }

    private static float[] Normalized(float[] v)
    {
        var norm = MathF.Sqrt(v.Sum(x => x * x));
        return v.Select(x => x / norm).ToArray();
    }

    [Fact]
    public void The_int8_dot_product_equals_the_integer_sum_of_products()
    {
        var random = new Random(10);
        foreach (var length in new[] { 8, 31, 32, 512, 515 })
        {
            var a = Enumerable.Range(0, length).Select(_ => (sbyte)random.Next(-127, 128)).ToArray();
            var b = Enumerable.Range(0, length).Select(_ => (sbyte)random.Next(-127, 128)).ToArray();
            Assert.Equal(a.Zip(b, (x, y) => x * y).Sum(), SpaceVectors.DotInt8(a, b));
        }
    }
}

/// <summary>
/// The same contract against PostgreSQL + pgvector: PGlite (PostgreSQL 18 in WASM, pgvector 0.8) behind pglite-socket,
/// started by scripts/start-test-services.sh. PGlite holds one database (one session), so each test gets its own schema.
/// </summary>
public sealed class PgVectorIndexTests : VectorIndexContractTests
{
    private readonly string _schema = "vectors_" + Guid.NewGuid().ToString("N")[..12];

    protected override async Task CreateStorageAsync()
    {
        await using var connection = new Npgsql.NpgsqlConnection(TestServices.PgVector);
        await connection.OpenAsync();
        // The extension lives in public, shared by the tests' schemas (dropping a schema must not drop it).
        await using var create = new Npgsql.NpgsqlCommand("CREATE EXTENSION IF NOT EXISTS vector SCHEMA public", connection);
        await create.ExecuteNonQueryAsync();
    }

    protected override Task<IVectorIndex> OpenIndexAsync() =>
        Task.FromResult<IVectorIndex>(new PgVectorIndex(TestServices.PgVector, new PgVectorSettings(Schema: _schema)));

    protected override async Task DeleteStorageAsync()
    {
        await using var connection = new Npgsql.NpgsqlConnection(TestServices.PgVector);
        await connection.OpenAsync();
        await using var drop = new Npgsql.NpgsqlCommand($"DROP SCHEMA IF EXISTS {_schema} CASCADE", connection);
        await drop.ExecuteNonQueryAsync();
    }

    protected override Task UpsertManyAsync(EmbeddingSpace space, IReadOnlyList<(string Id, float[] Vector, VectorAttributes Attributes)> entries) =>
        ((PgVectorIndex)Index).UpsertManyAsync(space, entries.Select(e => new VectorEntry(e.Id, e.Vector, e.Attributes)).ToList(), default);

    [Fact]
    public async Task A_filtered_query_sent_through_the_hnsw_index_still_returns_a_full_page()
    {
        // ExactBelow = 1 sends every filtered query through HNSW with hnsw.iterative_scan.
        await using var index = new PgVectorIndex(TestServices.PgVector, new PgVectorSettings(EfSearch: 40, ExactBelow: 1, Schema: _schema));
        const int count = 2000, k = 10;
        var vectors = RandomUnitVectors(count, Clip.Dimensions, seed: 8);
        await index.UpsertManyAsync(Clip, Enumerable.Range(0, count).Select(i =>
            new VectorEntry($"img{i}", vectors[i], new VectorAttributes("o", i % 100 == 0 ? "rare" : "common", null, 0, []))).ToList(), default);

        foreach (var query in RandomUnitVectors(5, Clip.Dimensions, seed: 9))
        {
            var hits = await index.SearchAsync(Clip, query, k, new VectorFilter(Collection: "rare"), default);
            Assert.Equal(k, hits.Count);
            Assert.All(hits, h => Assert.Equal(0, int.Parse(h.ImageId[3..]) % 100));
        }
    }
}
