using System.Numerics;
using Iris.Core.Imaging;
using Iris.Core.Tasks;

namespace Iris.Core.Library;

/// <summary>
/// dHash (difference hash) of the upright decoded image: the luma averaged over a 9×8 grid of boxes, then one bit per
/// pair of horizontal neighbours (left brighter than right), 64 bits. It survives re-encoding, resizing and small edits,
/// and costs one pass over the pixels already decoded for the other tasks. Two images whose hashes differ in at most
/// Library:NearDuplicateDistance bits are near-duplicates; equal bytes (the same id) are exact duplicates.
/// </summary>
public static class PerceptualHash
{
    private const int Columns = 9, Rows = 8;

    public static ulong Compute(DecodedImage image)
    {
        var sums = new double[Columns * Rows];
        var counts = new int[Columns * Rows];
        var rgb = image.Rgb;
        // A stride over large images: 256 samples per grid row and column are plenty for a 9×8 average.
        var stepX = Math.Max(1, image.Width / (Columns * 32));
        var stepY = Math.Max(1, image.Height / (Rows * 32));
        for (var y = 0; y < image.Height; y += stepY)
        {
            var row = Math.Min(Rows - 1, y * Rows / image.Height);
            var offset = y * image.Stride;
            for (var x = 0; x < image.Width; x += stepX)
            {
                var column = Math.Min(Columns - 1, x * Columns / image.Width);
                var p = offset + x * 3;
                sums[row * Columns + column] += 0.299 * rgb[p] + 0.587 * rgb[p + 1] + 0.114 * rgb[p + 2];
                counts[row * Columns + column]++;
            }
        }
        ulong hash = 0;
        for (var r = 0; r < Rows; r++)
            for (var c = 0; c < Columns - 1; c++)
            {
                var left = Mean(r * Columns + c);
                var right = Mean(r * Columns + c + 1);
                hash = (hash << 1) | (left > right ? 1UL : 0UL);
            }
        return hash;

        double Mean(int i) => counts[i] == 0 ? 0 : sums[i] / counts[i];
    }

    public static string ToHex(ulong hash) => hash.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);

    public static int Distance(string a, string b) =>
        BitOperations.PopCount(Convert.ToUInt64(a, 16) ^ Convert.ToUInt64(b, 16));
}

/// <summary>The perceptual hash as a model-free task, so indexing computes it on the same decode as the model tasks.</summary>
public sealed class PerceptualHashTask : ImageTask<PerceptualHashTask.Parameters, PerceptualHashTask, string>
{
    public sealed record Parameters : ITaskParameters;

    public override string Name => "phash";
    public override bool UsesModel => false;
    public override Parameters Read(ParameterReader reader) => new();
    public override Task<PerceptualHashTask> LoadAsync(Parameters parameters, CancellationToken cancellationToken) => Task.FromResult(this);

    public override Task<string> RunAsync(PerceptualHashTask model, Parameters parameters, TaskInput input, CancellationToken cancellationToken) =>
        Task.FromResult(PerceptualHash.ToHex(PerceptualHash.Compute(input.Image)));

    public override string? ModelOf(string result) => null;
}
