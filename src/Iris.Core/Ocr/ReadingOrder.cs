namespace Iris.Core.Ocr;

/// <summary>Puts text lines in reading order and joins them into the page's text.</summary>
public static class ReadingOrder
{
    /// <summary>
    /// PaddleOCR's sorted_boxes: by the top-left corner, top to bottom then left to right, then one bubbling pass
    /// so boxes whose tops are within <paramref name="sameRowTolerance"/> px read left to right.
    /// </summary>
    public static List<T> Sort<T>(IEnumerable<T> items, Func<T, PointF[]> corners, float sameRowTolerance = 10f)
    {
        var sorted = items.OrderBy(i => corners(i)[0].Y).ThenBy(i => corners(i)[0].X).ToList();
        for (var i = 0; i < sorted.Count - 1; i++)
            for (var j = i; j >= 0; j--)
            {
                var a = corners(sorted[j])[0];
                var b = corners(sorted[j + 1])[0];
                if (Math.Abs(b.Y - a.Y) < sameRowTolerance && b.X < a.X)
                    (sorted[j], sorted[j + 1]) = (sorted[j + 1], sorted[j]);
                else
                    break;
            }
        return sorted;
    }

    /// <summary>
    /// A polygon as it lies on the image turned 180° (width × height), corners again clockwise from the new top-left.
    /// </summary>
    public static PointF[] Turned180(PointF[] polygon, int width, int height)
    {
        PointF Turn(PointF p) => new(width - 1 - p.X, height - 1 - p.Y);
        return [Turn(polygon[2]), Turn(polygon[3]), Turn(polygon[0]), Turn(polygon[1])];
    }

    /// <summary>
    /// The text as a person reads it: lines in reading order, a line that sits beside the previous one (its
    /// vertical centre inside the previous box's height, and to its right) continues the same row after a
    /// space; any other starts a new row.
    /// </summary>
    public static string JoinText(IReadOnlyList<OcrLine> lines, Func<OcrLine, PointF[]>? frame = null)
    {
        frame ??= l => l.Polygon;
        var text = new System.Text.StringBuilder();
        for (var i = 0; i < lines.Count; i++)
        {
            if (i > 0)
            {
                var previous = frame(lines[i - 1]);
                var current = frame(lines[i]);
                var centre = (current[0].Y + current[3].Y) / 2;
                var sameRow = centre > previous[0].Y && centre < previous[3].Y && current[0].X >= previous[1].X - (previous[3].Y - previous[0].Y) / 2;
                text.Append(sameRow ? ' ' : '\n');
            }
            text.Append(lines[i].Text);
        }
        return text.ToString();
    }
}
