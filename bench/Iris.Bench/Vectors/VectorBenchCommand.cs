using System.Diagnostics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Text.Json;
using Iris.Core.Library.Vectors;

namespace Iris.Bench.Vectors;

/// <summary>
/// <c>Iris.Bench vectors</c> and <c>Iris.Bench vectors-pgvector</c>: the vector index over seeded random 512-d unit
/// vectors (bench/vectors/run.sh runs them beside FAISS on the same files). The vectors and queries are raw
/// little-endian float32 files, so FAISS reads exactly what the index indexed; each run writes its top-10 ids for the
/// comparison and one JSON line of measurements.
/// </summary>
public static class VectorBenchCommand
{
    private const int Dimensions = 512, K = 10;
    private static readonly EmbeddingSpace Space = new("random-unit", "1", Dimensions);

    private sealed record Arguments(int Count, int Queries, string Directory, int Threads, string? Connection, bool Quantize);

    public static async Task<int> RunAsync(string[] args, bool pgvector)
    {
        if (args.Contains("--help"))
        {
            Console.WriteLine("""
                Iris.Bench vectors          --n N --queries Q --dir DIR [--threads T] [--quantize]
                Iris.Bench vectors-pgvector --n N --queries Q --dir DIR --connection "Host=…;Pooling=false"
                  Generates (once, seeded) DIR/base-N.f32 and DIR/queries-Q.f32: random 512-d unit vectors, float32.
                  vectors: loads them into the embedded index (DIR/embedded-N.db), runs Q single queries at k=10,
                  writes DIR/embedded-N-tT.ids and prints a JSON line (queries/s, p50/p99 ms, bytes per vector).
                  vectors-pgvector: bulk-loads them into pgvector, builds HNSW, prints recall@10 against exact search
                  and latency, unfiltered and with a 1 % and a 50 % filter.
                """);
            return 0;
        }
        var a = Parse(args);
        Directory.CreateDirectory(a.Directory);
        var basePath = Path.Combine(a.Directory, $"base-{a.Count}.f32");
        var queryPath = Path.Combine(a.Directory, $"queries-{a.Queries}.f32");
        EnsureVectors(basePath, a.Count, seed: 42);
        EnsureVectors(queryPath, a.Queries, seed: 7);
        var queries = ReadAll(queryPath, a.Queries);
        return pgvector ? await PgVectorAsync(a, basePath, queries) : await EmbeddedAsync(a, basePath, queries);
    }

    private static async Task<int> EmbeddedAsync(Arguments a, string basePath, float[][] queries)
    {
        var database = Path.Combine(a.Directory, $"embedded-{a.Count}.db");
        double ingestSeconds = 0;
        await using (var index = new EmbeddedVectorIndex(database, a.Threads))
        {
            if (await index.CountAsync(Space, default) != a.Count)
            {
                await index.DropSpaceAsync(Space, default);
                var ingest = Stopwatch.StartNew();
                foreach (var batch in Batches(basePath, a.Count, 10_000, _ => Attributes))
                    await index.UpsertManyAsync(Space, batch, default);
                ingestSeconds = ingest.Elapsed.TotalSeconds;
            }
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();

        // A fresh process-like start: what loading costs in time and memory.
        var before = ManagedBytes();
        var load = Stopwatch.StartNew();
        await using var loaded = new EmbeddedVectorIndex(database, a.Threads, a.Quantize);
        await loaded.SyncAsync(default);
        var loadSeconds = load.Elapsed.TotalSeconds;
        var bytesPerVector = (double)(ManagedBytes() - before) / a.Count;

        for (var i = 0; i < Math.Min(5, queries.Length); i++) await loaded.SearchAsync(Space, queries[i], K, VectorFilter.None, default);
        var latencies = new double[queries.Length];
        var ids = new string[queries.Length];
        var all = Stopwatch.StartNew();
        for (var i = 0; i < queries.Length; i++)
        {
            var started = Stopwatch.GetTimestamp();
            var hits = await loaded.SearchAsync(Space, queries[i], K, VectorFilter.None, default);
            latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            ids[i] = string.Join(' ', hits.Select(h => h.ImageId));
        }
        var seconds = all.Elapsed.TotalSeconds;
        var threads = a.Threads > 0 ? a.Threads : Environment.ProcessorCount;
        await File.WriteAllLinesAsync(Path.Combine(a.Directory, $"embedded-{a.Count}-t{threads}{(a.Quantize ? "-int8" : "")}.ids"), ids);
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            index = a.Quantize ? "embedded-int8-rerank" : "embedded", n = a.Count, queries = queries.Length, threads,
            qps = Math.Round(queries.Length / seconds, 1), p50_ms = Math.Round(Percentile(latencies, 0.50), 2), p99_ms = Math.Round(Percentile(latencies, 0.99), 2),
            bytes_per_vector = Math.Round(bytesPerVector), load_s = Math.Round(loadSeconds, 1), ingest_s = Math.Round(ingestSeconds, 1),
        }));
        return 0;
    }

    private static async Task<int> PgVectorAsync(Arguments a, string basePath, float[][] queries)
    {
        if (a.Connection is null) throw new ArgumentException("--connection is required for vectors-pgvector.");
        await using var index = new PgVectorIndex(a.Connection, new PgVectorSettings(Schema: "bench"));
        static VectorAttributes Filterable(int i) => new("o", i % 100 == 0 ? "rare" : "common", null, 0, i % 2 == 0 ? ["half"] : []);
        var load = Stopwatch.StartNew();
        await index.DropSpaceAsync(Space, default);
        await index.BulkLoadAsync(Space, Batches(basePath, a.Count, 2_000, Filterable), default);
        var loadSeconds = load.Elapsed.TotalSeconds;

        var vectors = ReadAll(basePath, a.Count);
        var report = new Dictionary<string, object> { ["index"] = "pgvector-hnsw", ["n"] = a.Count, ["queries"] = queries.Length, ["load_and_build_s"] = Math.Round(loadSeconds, 1) };
        foreach (var (name, filter, passes, efSearch) in new (string, VectorFilter, Func<int, bool>, int)[]
        {
            ("none_ef40", VectorFilter.None, _ => true, 40),
            ("none_ef200", VectorFilter.None, _ => true, 200),
            ("none_ef1000", VectorFilter.None, _ => true, 1000),
            ("rare_1pct", new VectorFilter(Collection: "rare"), i => i % 100 == 0, 200),
            ("half_50pct", new VectorFilter(Label: "half"), i => i % 2 == 0, 200),
        })
        {
            // The same tables, searched with another hnsw.ef_search.
            await using var searcher = new PgVectorIndex(a.Connection, new PgVectorSettings(EfSearch: efSearch, Schema: "bench"));
            var latencies = new double[queries.Length];
            double recall = 0;
            var fullPages = 0;
            for (var q = 0; q < queries.Length; q++)
            {
                var started = Stopwatch.GetTimestamp();
                var hits = await searcher.SearchAsync(Space, queries[q], K, filter, default);
                latencies[q] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                var exact = Exact(vectors, queries[q], passes);
                recall += hits.Count(h => exact.Contains(int.Parse(h.ImageId))) / (double)K;
                if (hits.Count == K) fullPages++;
            }
            report[name] = new
            {
                recall_at_10 = Math.Round(recall / queries.Length, 3), full_pages = $"{fullPages}/{queries.Length}",
                p50_ms = Math.Round(Percentile(latencies, 0.5), 1), p99_ms = Math.Round(Percentile(latencies, 0.99), 1),
                qps = Math.Round(queries.Length / (latencies.Sum() / 1000), 1),
            };
        }
        Console.WriteLine(JsonSerializer.Serialize(report));
        return 0;
    }

    private static readonly VectorAttributes Attributes = new("o", "c", null, 0, []);

    private static HashSet<int> Exact(float[][] vectors, float[] query, Func<int, bool> passes) =>
        Enumerable.Range(0, vectors.Length).Where(passes)
            .Select(i => (i, score: TensorPrimitives.Dot(vectors[i], query)))
            .OrderByDescending(x => x.score).Take(K).Select(x => x.i).ToHashSet();

    private static IEnumerable<IReadOnlyList<VectorEntry>> Batches(string path, int count, int size, Func<int, VectorAttributes> attributes)
    {
        using var stream = File.OpenRead(path);
        var buffer = new byte[Dimensions * sizeof(float)];
        for (var start = 0; start < count; start += size)
        {
            var batch = new List<VectorEntry>(size);
            for (var i = start; i < Math.Min(count, start + size); i++)
            {
                stream.ReadExactly(buffer);
                batch.Add(new VectorEntry(i.ToString(), MemoryMarshal.Cast<byte, float>(buffer).ToArray(), attributes(i)));
            }
            yield return batch;
        }
    }

    private static float[][] ReadAll(string path, int count) =>
        Batches(path, count, count, _ => Attributes).Single().Select(e => e.Vector.ToArray()).ToArray();

    /// <summary>Gaussian components (Box–Muller over a seeded Random), normalised: uniform on the unit sphere.</summary>
    private static void EnsureVectors(string path, int count, int seed)
    {
        if (File.Exists(path) && new FileInfo(path).Length == (long)count * Dimensions * sizeof(float)) return;
        var random = new Random(seed);
        using var stream = File.Create(path + ".tmp");
        var vector = new float[Dimensions];
        for (var i = 0; i < count; i++)
        {
            for (var d = 0; d < Dimensions; d += 2)
            {
                var r = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble()));
                var theta = 2 * Math.PI * random.NextDouble();
                vector[d] = (float)(r * Math.Cos(theta));
                vector[d + 1] = (float)(r * Math.Sin(theta));
            }
            TensorPrimitives.Divide(vector, TensorPrimitives.Norm(vector), vector);
            stream.Write(MemoryMarshal.AsBytes(vector.AsSpan()));
        }
        stream.Close();
        File.Move(path + ".tmp", path, overwrite: true);
    }

    private static long ManagedBytes()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static double Percentile(double[] values, double p)
    {
        var sorted = values.Order().ToArray();
        return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
    }

    private static Arguments Parse(string[] args)
    {
        string? Value(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        return new Arguments(
            int.Parse(Value("--n") ?? "100000"), int.Parse(Value("--queries") ?? "200"),
            Value("--dir") ?? Path.Combine(Path.GetTempPath(), "iris-vector-bench"), int.Parse(Value("--threads") ?? "0"), Value("--connection"),
            args.Contains("--quantize"));
    }
}
