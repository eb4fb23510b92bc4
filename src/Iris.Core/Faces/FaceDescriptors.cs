namespace Iris.Core.Faces;

/// <summary>Arithmetic on identity descriptors: normalise once, then similarity is a dot product.</summary>
public static class FaceDescriptors
{
    public static (float[] Descriptor, float Norm) Normalize(ReadOnlySpan<float> raw)
    {
        var norm = MathF.Sqrt(System.Numerics.Tensors.TensorPrimitives.SumOfSquares(raw));
        var normalized = new float[raw.Length];
        // FaceRes's descriptor is a mean of ReLU6 activations: all zeros only for a blank input; keep it zero, not NaN.
        if (norm > 0) System.Numerics.Tensors.TensorPrimitives.Divide(raw, norm, normalized);
        return (normalized, norm);
    }

    /// <summary>Cosine similarity of two normalised descriptors, −1…1 (FaceRes's are non-negative, so 0…1).</summary>
    public static float Similarity(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length)
            throw new ArgumentException($"descriptors of different lengths ({a.Length} and {b.Length}) cannot be compared");
        return System.Numerics.Tensors.TensorPrimitives.Dot(a, b);
    }
}
