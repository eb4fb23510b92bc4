using Iris.Core.Detection;
using Iris.Core.Library.People;

namespace Iris.Tests.Library.People;

/// <summary>
/// Synthetic faceres-like descriptors: each identity is a random unit vector in 1024-d, and each of its faces that
/// vector plus Gaussian noise, normalised. With noise 0.5 a face is ≈0.89 from its identity and ≈0.8 from another face
/// of it, and two identities are ≈0 apart: the same gap real descriptors show (0.83–0.93 vs 0.24–0.60).
/// </summary>
public sealed class SyntheticFaces(int seed = 7)
{
    public const int Dimensions = 1024;
    private readonly Random _random = new(seed);
    private readonly Dictionary<string, float[]> _identities = [];

    public float[] Descriptor(string identity, float noise = 0.5f)
    {
        if (!_identities.TryGetValue(identity, out var centre)) _identities[identity] = centre = Unit(Gaussian());
        var g = Unit(Gaussian());
        return Unit(centre.Select((c, i) => c + noise * g[i]).ToArray());
    }

    public LibraryFace Face(string imageId, int index, string identity, string? personId = null, FaceSource source = FaceSource.Auto, string owner = "") => new()
    {
        Id = LibraryFace.IdOf(imageId, index), ImageId = imageId, Owner = owner, Index = index, Box = new BoundingBox(10 * index, 10, 10 * index + 8, 18),
        Confidence = 0.9f, Descriptor = Descriptor(identity), PersonId = personId, Source = source,
    };

    private float[] Gaussian() => Enumerable.Range(0, Dimensions)
        .Select(_ => (float)(Math.Sqrt(-2 * Math.Log(1 - _random.NextDouble())) * Math.Cos(2 * Math.PI * _random.NextDouble()))).ToArray();

    private static float[] Unit(float[] v)
    {
        var norm = MathF.Sqrt(v.Sum(x => x * x));
        return v.Select(x => x / norm).ToArray();
    }
}
