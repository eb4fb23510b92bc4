namespace Iris.Core.Library.Vectors;

/// <summary>What every index refuses before it stores or searches anything: the same rules for both implementations.</summary>
internal static class VectorChecks
{
    public static void Space(EmbeddingSpace space)
    {
        ArgumentNullException.ThrowIfNull(space);
        if (string.IsNullOrWhiteSpace(space.Model) || space.Dimensions <= 0)
            throw new InvalidVectorException($"The embedding space '{space.Key}' needs a model name and a positive dimension.");
    }

    public static void Vector(EmbeddingSpace space, ReadOnlySpan<float> vector, string what)
    {
        Space(space);
        if (vector.Length != space.Dimensions)
            throw new InvalidVectorException(
                $"The {what} has {vector.Length} dimensions; the space {space.Key} holds vectors of {space.Dimensions}.");
        for (var i = 0; i < vector.Length; i++)
            if (!float.IsFinite(vector[i]))
                throw new InvalidVectorException($"The {what} has a non-finite value ({vector[i]}) at dimension {i}.");
    }

    /// <summary>Every entry of an upsert, before any is stored: one bad vector refuses the whole batch.</summary>
    public static void Entries(EmbeddingSpace space, IReadOnlyList<VectorEntry> entries)
    {
        foreach (var entry in entries)
        {
            ImageId(entry.ImageId);
            Vector(space, entry.Vector.Span, "vector of image " + entry.ImageId);
            ArgumentNullException.ThrowIfNull(entry.Attributes);
        }
    }

    public static void ImageId(string imageId)
    {
        if (string.IsNullOrEmpty(imageId)) throw new ArgumentException("An image id is required.", nameof(imageId));
    }

    public static void K(int k)
    {
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be at least 1.");
    }
}
