using System.Collections.Concurrent;
using System.Numerics.Tensors;
using Iris.Core.Library.Vectors;
using Iris.Core.Tasks.Embeddings;

namespace Iris.Core.Library;

/// <summary>The cosines a query scores against images it has nothing to do with: their mean and standard deviation.</summary>
public sealed record NullDistribution(double Mean, double Deviation, int Samples)
{
    /// <summary>A deviation below this (a library of one or two images) would turn any cosine into 0 or 1.</summary>
    public const double MinDeviation = 0.01;

    /// <summary>Φ((cosine − mean) / deviation): 0.5 is chance, 0.98 two deviations above it.</summary>
    public float Score(float cosine) => (float)NormalCdf((cosine - Mean) / Math.Max(Deviation, MinDeviation));

    public static NullDistribution Of(IReadOnlyCollection<double> cosines)
    {
        var mean = cosines.Average();
        var variance = cosines.Sum(c => (c - mean) * (c - mean)) / Math.Max(1, cosines.Count - 1);
        return new NullDistribution(mean, Math.Sqrt(variance), cosines.Count);
    }

    /// <summary>Φ(z) through erfc (Numerical Recipes' Chebyshev fit, error below 1.2e-7), since .NET has no erf.</summary>
    public static double NormalCdf(double z)
    {
        var x = Math.Abs(z) / Math.Sqrt(2);
        var t = 1 / (1 + 0.5 * x);
        var erfc = t * Math.Exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
                   t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return z >= 0 ? 1 - erfc / 2 : erfc / 2;
    }
}

/// <summary>
/// Turns CLIP cosines into calibrated scores. A raw cosine means nothing on its own: CLIP's text→image cosines of a good
/// match are near 0.3 and of an unrelated image near 0.15–0.2, and image→image cosines sit much higher, so one cut
/// cannot serve both. Per embedding space, two null distributions are measured on the library itself: text→image (the
/// sampled images against content-free prompts such as "a photo", which describe every image equally little) and
/// image→image (every pair of sampled images). A hit's score is Φ((cos − μ)/σ) under the null of its query kind: the
/// probability that a content-free query scores lower, 0..1, where 0.5 is chance. Each null is recomputed when the
/// number of indexed images has moved by more than a tenth (or at all while the sample is the whole library), so it
/// follows the library as it grows.
/// </summary>
public sealed class ScoreCalibration(ImageLibrary library, EmbedTask embed)
{
    /// <summary>Prompts that carry no content: what any image matches by being an image.</summary>
    public static readonly IReadOnlyList<string> NullPrompts =
        ["a photo", "an image", "a picture of something", "a picture", "a photo of a thing", "something"];

    /// <summary>How many indexed images the nulls are measured on (ids are content hashes, so the first ones by id are a random sample).</summary>
    public const int SampleSize = 256;

    private sealed record Null(long Count, NullDistribution? Distribution);

    // Keyed by space and query kind: the text null needs the space's model to embed its prompts, the image null only
    // the stored vectors, so an image query still calibrates while a reindex runs without the old model installed.
    private readonly ConcurrentDictionary<(string Space, bool Image), Null> _cache = new();
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>The null of <paramref name="space"/> for a text query, or for an image query (null while fewer than two images are indexed).</summary>
    public async Task<NullDistribution?> NullAsync(EmbeddingSpace space, bool imageQuery, CancellationToken cancellationToken)
    {
        var key = (space.Key, imageQuery);
        var count = await library.Store.CountAsync(null, IndexState.Indexed, cancellationToken);
        if (_cache.TryGetValue(key, out var cached) && Fresh(cached.Count, count)) return cached.Distribution;
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_cache.TryGetValue(key, out cached) && Fresh(cached.Count, count)) return cached.Distribution;
            var sample = new List<float[]>();
            foreach (var id in await library.Store.ListIndexedIdsAsync(null, SampleSize, cancellationToken))
                if (await library.Vectors.GetAsync(space, id, cancellationToken) is { } vector) sample.Add(vector);
            var cosines = new List<double>();
            if (imageQuery)
            {
                for (var i = 0; i < sample.Count; i++)
                    for (var j = i + 1; j < sample.Count; j++)
                        cosines.Add(TensorPrimitives.CosineSimilarity(sample[i], sample[j]));
            }
            else if (sample.Count > 0)
            {
                var parameters = new EmbedTask.Parameters(space.Model);
                foreach (var prompt in NullPrompts)
                {
                    var query = (await embed.EmbedTextAsync(parameters, prompt, cancellationToken)).Vector;
                    cosines.AddRange(sample.Select(v => (double)TensorPrimitives.CosineSimilarity(query, v)));
                }
            }
            var distribution = cosines.Count > 0 ? NullDistribution.Of(cosines) : null;
            _cache[key] = new Null(count, distribution);
            return distribution;
        }
        finally
        {
            _gate.Release();
        }
    }

    private static bool Fresh(long measuredAt, long now) =>
        measuredAt <= SampleSize ? measuredAt == now : Math.Abs(now - measuredAt) * 10 <= measuredAt;
}
