using System.Security.Cryptography;
using Iris.Core.Imaging;
using Iris.Core.Tasks;

namespace Iris.Core.Library;

/// <summary>
/// SHA-256 of the decoded upright image: its width and height, then its RGB bytes. Two files with the same pixels (a
/// PNG re-encoded, metadata stripped, a lossless rotation already applied by EXIF) hash the same, so they are exact
/// duplicates although their bytes, and so their ids, differ.
/// </summary>
public static class PixelHash
{
    public static string Compute(DecodedImage image)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> size = stackalloc byte[8];
        BitConverter.TryWriteBytes(size[..4], image.Width);
        BitConverter.TryWriteBytes(size[4..], image.Height);
        sha.AppendData(size);
        sha.AppendData(image.Rgb, 0, image.Stride * image.Height);
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}

/// <summary>The pixel hash as a model-free task, on the same decode as the other indexing tasks.</summary>
public sealed class PixelHashTask : ImageTask<PixelHashTask.Parameters, PixelHashTask, string>
{
    public const string TaskName = "pixelhash";

    public sealed record Parameters : ITaskParameters;

    public override string Name => TaskName;
    public override bool UsesModel => false;
    public override Parameters Read(ParameterReader reader) => new();
    public override Task<PixelHashTask> LoadAsync(Parameters parameters, CancellationToken cancellationToken) => Task.FromResult(this);

    public override Task<string> RunAsync(PixelHashTask model, Parameters parameters, TaskInput input, CancellationToken cancellationToken) =>
        Task.FromResult(PixelHash.Compute(input.Image));

    public override string? ModelOf(string result) => null;
}
