namespace Iris.Core.Ocr;

/// <summary>A detected text region in original image pixels, corners clockwise from top-left.</summary>
public sealed record TextBox(PointF[] Corners, float Score);

/// <summary>
/// DB (Differentiable Binarization) post-processing as PaddleOCR's DBPostProcess does it (box_type "quad",
/// score_mode "fast"): binarise the probability map, take each connected region's minimum-area rectangle, score it
/// by the mean probability inside, grow it by the unclip distance, take the minimum-area rectangle again, scale it
/// back to the image and drop slivers.
/// </summary>
public static class DbPostprocessor
{
    /// <param name="probability">The model's [H, W] text probability map.</param>
    /// <param name="imageWidth">The original image width the boxes are scaled back to.</param>
    public static List<TextBox> Extract(ReadOnlySpan<float> probability, int mapWidth, int mapHeight, int imageWidth, int imageHeight, OcrDetectionSpec spec)
    {
        var regions = Regions(probability, mapWidth, mapHeight, spec.BinaryThreshold);
        var boxes = new List<TextBox>();
        foreach (var region in regions.Take(spec.MaxCandidates))
        {
            var rect = OcrGeometry.MinAreaRect(region);
            if (rect.ShortSide < spec.MinSide) continue;
            var corners = OcrGeometry.MiniBoxOrder(rect.Corners);
            var score = MeanInside(probability, mapWidth, mapHeight, corners);
            if (score < spec.BoxThreshold) continue;

            var grown = OcrGeometry.MinAreaRect(OcrGeometry.Unclip(corners, spec.UnclipRatio));
            if (grown.ShortSide < spec.MinSide + 2) continue;
            var scaled = OcrGeometry.MiniBoxOrder(grown.Corners).Select(p => new PointF(
                Math.Clamp(MathF.Round(p.X / mapWidth * imageWidth), 0, imageWidth),
                Math.Clamp(MathF.Round(p.Y / mapHeight * imageHeight), 0, imageHeight))).ToArray();

            // PaddleOCR's filter_tag_det_res: clockwise order, clip to the last pixel, drop boxes 3 px or thinner.
            var ordered = OcrGeometry.OrderClockwise(scaled)
                .Select(p => new PointF(Math.Clamp(p.X, 0, imageWidth - 1), Math.Clamp(p.Y, 0, imageHeight - 1))).ToArray();
            if ((int)OcrGeometry.Distance(ordered[0], ordered[1]) <= 3 || (int)OcrGeometry.Distance(ordered[0], ordered[3]) <= 3) continue;
            boxes.Add(new TextBox(ordered, score));
        }
        return boxes;
    }

    /// <summary>
    /// The border pixels of each 8-connected region above the threshold, in the order a raster scan meets the
    /// regions (as OpenCV's findContours does). Border pixels are enough: their hull is the region's hull.
    /// </summary>
    public static List<List<PointF>> Regions(ReadOnlySpan<float> probability, int width, int height, float threshold)
    {
        var labels = new int[width * height];
        var regions = new List<List<PointF>>();
        var stack = new Stack<int>();
        for (var start = 0; start < labels.Length; start++)
        {
            if (labels[start] != 0 || !(probability[start] > threshold)) continue;
            var label = regions.Count + 1;
            var border = new List<PointF>();
            labels[start] = label;
            stack.Push(start);
            while (stack.Count > 0)
            {
                var index = stack.Pop();
                int x = index % width, y = index / width;
                var isBorder = false;
                for (var dy = -1; dy <= 1; dy++)
                    for (var dx = -1; dx <= 1; dx++)
                    {
                        if (dx == 0 && dy == 0) continue;
                        int nx = x + dx, ny = y + dy;
                        if (nx < 0 || ny < 0 || nx >= width || ny >= height)
                        {
                            isBorder = true;
                            continue;
                        }
                        var n = ny * width + nx;
                        if (!(probability[n] > threshold))
                        {
                            if (dx == 0 || dy == 0) isBorder = true;
                            continue;
                        }
                        if (labels[n] == 0)
                        {
                            labels[n] = label;
                            stack.Push(n);
                        }
                    }
                if (isBorder) border.Add(new PointF(x, y));
            }
            regions.Add(border);
        }
        return regions;
    }

    /// <summary>
    /// PaddleOCR's box_score_fast: the mean probability over the pixels of the box's bounding rectangle that the
    /// polygon (corners truncated to integers, as <c>astype(np.int32)</c>) covers, edges included.
    /// </summary>
    public static float MeanInside(ReadOnlySpan<float> probability, int width, int height, PointF[] corners)
    {
        var xMin = Math.Clamp((int)MathF.Floor(corners.Min(p => p.X)), 0, width - 1);
        var xMax = Math.Clamp((int)MathF.Ceiling(corners.Max(p => p.X)), 0, width - 1);
        var yMin = Math.Clamp((int)MathF.Floor(corners.Min(p => p.Y)), 0, height - 1);
        var yMax = Math.Clamp((int)MathF.Ceiling(corners.Max(p => p.Y)), 0, height - 1);
        var polygon = corners.Select(p => new PointF((int)(p.X - xMin), (int)(p.Y - yMin))).ToArray();
        var sign = OcrGeometry.Area(polygon) == 0 ? 0 : SignedArea(polygon) > 0 ? 1 : -1;

        double sum = 0;
        var count = 0;
        for (var y = yMin; y <= yMax; y++)
            for (var x = xMin; x <= xMax; x++)
            {
                if (!Covers(polygon, x - xMin, y - yMin, sign)) continue;
                sum += probability[y * width + x];
                count++;
            }
        return count == 0 ? 0f : (float)(sum / count);
    }

    private static double SignedArea(PointF[] polygon)
    {
        double sum = 0;
        for (var i = 0; i < polygon.Length; i++)
        {
            var a = polygon[i];
            var b = polygon[(i + 1) % polygon.Length];
            sum += (double)a.X * b.Y - (double)b.X * a.Y;
        }
        return sum / 2;
    }

    private static bool Covers(PointF[] polygon, float x, float y, int sign)
    {
        if (sign == 0)
        {
            // A degenerate polygon covers the pixels on its segments.
            for (var i = 0; i < polygon.Length; i++)
                if (OnSegment(polygon[i], polygon[(i + 1) % polygon.Length], x, y)) return true;
            return false;
        }
        for (var i = 0; i < polygon.Length; i++)
        {
            var a = polygon[i];
            var b = polygon[(i + 1) % polygon.Length];
            var cross = ((double)b.X - a.X) * (y - a.Y) - ((double)b.Y - a.Y) * (x - a.X);
            if (cross * sign < -1e-9) return false;
        }
        return true;
    }

    private static bool OnSegment(PointF a, PointF b, float x, float y)
    {
        var cross = ((double)b.X - a.X) * (y - a.Y) - ((double)b.Y - a.Y) * (x - a.X);
        return Math.Abs(cross) < 1e-9 && x >= Math.Min(a.X, b.X) && x <= Math.Max(a.X, b.X) && y >= Math.Min(a.Y, b.Y) && y <= Math.Max(a.Y, b.Y);
    }
}
