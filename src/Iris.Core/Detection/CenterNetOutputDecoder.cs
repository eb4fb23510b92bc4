namespace Iris.Core.Detection;

/// <summary>
/// Decodes CenterNet's raw heads exactly as the TF.js graph's own tail does:
/// <c>peak = heat · (heat == maxpool3×3_SAME(heat))</c> per class, the top-k peaks of the flattened
/// <c>[rows · columns · classes]</c> map (ties by lower index), <c>class = idx % classes</c>, cell <c>(x, y)</c> from <c>idx / classes</c>,
/// and the box <c>(stride·x − left, stride·y − top, stride·x + right, stride·y + bottom)</c> in input pixels.
/// </summary>
public static class CenterNetOutputDecoder
{
    /// <summary>One peak: its class, score and box in the model's input pixels (not clipped).</summary>
    public readonly record struct Peak(int ClassIndex, float Score, BoundingBox Box);

    /// <param name="heatmap"><c>[rows, columns, classes]</c>, row-major.</param>
    /// <param name="edges"><c>[rows, columns, 4]</c>: left, top, right, bottom.</param>
    /// <param name="minScore">Peaks below it are dropped after the top-k (so only peaks of the top-k survive).</param>
    public static List<Peak> Decode(ReadOnlySpan<float> heatmap, ReadOnlySpan<float> edges, int rows, int columns, int classes, int stride, int topK, float minScore)
    {
        if (heatmap.Length != rows * columns * classes)
            throw new InvalidOperationException($"CenterNet heatmap has {heatmap.Length} values; {rows}×{columns}×{classes} expected.");
        if (edges.Length != rows * columns * 4)
            throw new InvalidOperationException($"CenterNet box head has {edges.Length} values; {rows}×{columns}×4 expected.");

        // The top-k of all peaks, then the threshold, keeps the same peaks as the threshold first and the top-k of what
        // passes it: a peak at or above the threshold outside the top-k has k higher peaks above the threshold too.
        var found = new List<(float Score, int Index)>();
        for (var y = 0; y < rows; y++)
        for (var x = 0; x < columns; x++)
        for (var c = 0; c < classes; c++)
        {
            var index = (y * columns + x) * classes + c;
            var score = heatmap[index];
            if (score < minScore || !IsPeak(heatmap, rows, columns, classes, y, x, c, score)) continue;
            found.Add((score, index));
        }
        found.Sort((a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Index.CompareTo(b.Index));

        var peaks = new List<Peak>(Math.Min(topK, found.Count));
        foreach (var (score, index) in found.Take(topK))
        {
            var cell = index / classes;
            int x = cell % columns, y = cell / columns;
            var e = edges.Slice(cell * 4, 4);
            peaks.Add(new Peak(index % classes, score,
                new BoundingBox(stride * x - e[0], stride * y - e[1], stride * x + e[2], stride * y + e[3])));
        }
        return peaks;
    }

    /// <summary>Equal to the maximum of its 3×3 neighbourhood in its own class (SAME padding: outside cells do not count).</summary>
    private static bool IsPeak(ReadOnlySpan<float> heatmap, int rows, int columns, int classes, int y, int x, int c, float score)
    {
        for (var ny = Math.Max(0, y - 1); ny <= Math.Min(rows - 1, y + 1); ny++)
        for (var nx = Math.Max(0, x - 1); nx <= Math.Min(columns - 1, x + 1); nx++)
            if (heatmap[(ny * columns + nx) * classes + c] > score)
                return false;
        return true;
    }
}
