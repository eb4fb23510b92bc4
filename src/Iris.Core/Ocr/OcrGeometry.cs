namespace Iris.Core.Ocr;

public readonly record struct PointF(float X, float Y);

/// <summary>A rotated rectangle as OpenCV's minAreaRect describes it: centre, side lengths, and the 4 corners.</summary>
public readonly record struct RotatedBox(PointF Center, float Width, float Height, PointF[] Corners)
{
    public float ShortSide => MathF.Min(Width, Height);
}

/// <summary>
/// The plane geometry of DB post-processing: convex hull, minimum-area rectangle (rotating calipers), round-join
/// polygon offsetting and PaddleOCR's two corner orderings. Written here rather than bound from OpenCV so Iris
/// carries no 100 MB native library; each function matches the OpenCV/pyclipper call it replaces.
/// </summary>
public static class OcrGeometry
{
    /// <summary>Andrew's monotone chain; counter-clockwise in image coordinates (y down), no collinear points.</summary>
    public static List<PointF> ConvexHull(IReadOnlyList<PointF> points)
    {
        var sorted = points.Distinct().OrderBy(p => p.X).ThenBy(p => p.Y).ToArray();
        if (sorted.Length < 3) return [.. sorted];
        var hull = new PointF[2 * sorted.Length];
        var k = 0;
        for (var i = 0; i < sorted.Length; i++)
        {
            while (k >= 2 && Cross(hull[k - 2], hull[k - 1], sorted[i]) <= 0) k--;
            hull[k++] = sorted[i];
        }
        for (int i = sorted.Length - 2, lower = k + 1; i >= 0; i--)
        {
            while (k >= lower && Cross(hull[k - 2], hull[k - 1], sorted[i]) <= 0) k--;
            hull[k++] = sorted[i];
        }
        return [.. hull[..(k - 1)]];
    }

    private static double Cross(PointF o, PointF a, PointF b) =>
        ((double)a.X - o.X) * ((double)b.Y - o.Y) - ((double)a.Y - o.Y) * ((double)b.X - o.X);

    /// <summary>The smallest-area rectangle around the points (one side is flush with a hull edge, as in OpenCV).</summary>
    public static RotatedBox MinAreaRect(IReadOnlyList<PointF> points)
    {
        var hull = ConvexHull(points);
        if (hull.Count == 0) return new RotatedBox(default, 0, 0, [default, default, default, default]);
        if (hull.Count == 1) return new RotatedBox(hull[0], 0, 0, [hull[0], hull[0], hull[0], hull[0]]);

        double bestArea = double.MaxValue;
        (double ux, double uy, double minU, double maxU, double minV, double maxV) best = default;
        for (var i = 0; i < hull.Count; i++)
        {
            var a = hull[i];
            var b = hull[(i + 1) % hull.Count];
            double dx = b.X - a.X, dy = b.Y - a.Y, length = Math.Sqrt(dx * dx + dy * dy);
            if (length == 0) continue;
            double ux = dx / length, uy = dy / length;
            double minU = double.MaxValue, maxU = double.MinValue, minV = double.MaxValue, maxV = double.MinValue;
            foreach (var p in hull)
            {
                var u = p.X * ux + p.Y * uy;
                var v = -p.X * uy + p.Y * ux;
                minU = Math.Min(minU, u); maxU = Math.Max(maxU, u);
                minV = Math.Min(minV, v); maxV = Math.Max(maxV, v);
            }
            var area = (maxU - minU) * (maxV - minV);
            if (area < bestArea - 1e-9)
            {
                bestArea = area;
                best = (ux, uy, minU, maxU, minV, maxV);
            }
        }
        PointF At(double u, double v) => new((float)(u * best.ux - v * best.uy), (float)(u * best.uy + v * best.ux));
        var corners = new[] { At(best.minU, best.minV), At(best.maxU, best.minV), At(best.maxU, best.maxV), At(best.minU, best.maxV) };
        var center = At((best.minU + best.maxU) / 2, (best.minV + best.maxV) / 2);
        return new RotatedBox(center, (float)(best.maxU - best.minU), (float)(best.maxV - best.minV), corners);
    }

    /// <summary>
    /// PaddleOCR's get_mini_boxes order: sort the corners by x, then take the left pair's upper point first,
    /// the right pair's upper point second, the right pair's lower third and the left pair's lower fourth.
    /// </summary>
    public static PointF[] MiniBoxOrder(PointF[] corners)
    {
        var p = corners.OrderBy(c => c.X).ToArray();
        var (first, fourth) = p[1].Y > p[0].Y ? (p[0], p[1]) : (p[1], p[0]);
        var (second, third) = p[3].Y > p[2].Y ? (p[2], p[3]) : (p[3], p[2]);
        return [first, second, third, fourth];
    }

    /// <summary>Clockwise from top-left: of the two left-most points the upper is top-left, of the two right-most the upper is top-right.</summary>
    public static PointF[] OrderClockwise(PointF[] corners)
    {
        var p = corners.OrderBy(c => c.X).ThenBy(c => c.Y).ToArray();
        var (topLeft, bottomLeft) = p[0].Y <= p[1].Y ? (p[0], p[1]) : (p[1], p[0]);
        var (topRight, bottomRight) = p[2].Y <= p[3].Y ? (p[2], p[3]) : (p[3], p[2]);
        return [topLeft, topRight, bottomRight, bottomLeft];
    }

    public static double Area(IReadOnlyList<PointF> polygon)
    {
        double sum = 0;
        for (var i = 0; i < polygon.Count; i++)
        {
            var a = polygon[i];
            var b = polygon[(i + 1) % polygon.Count];
            sum += (double)a.X * b.Y - (double)b.X * a.Y;
        }
        return Math.Abs(sum) / 2;
    }

    public static double Perimeter(IReadOnlyList<PointF> polygon)
    {
        double sum = 0;
        for (var i = 0; i < polygon.Count; i++)
            sum += Distance(polygon[i], polygon[(i + 1) % polygon.Count]);
        return sum;
    }

    public static double Distance(PointF a, PointF b) => Math.Sqrt(((double)a.X - b.X) * ((double)a.X - b.X) + ((double)a.Y - b.Y) * ((double)a.Y - b.Y));

    /// <summary>
    /// DB's "unclip": grows a convex polygon outwards by <c>area × ratio / perimeter</c> with round joins, the way
    /// pyclipper's ClipperOffset(JT_ROUND, ET_CLOSEDPOLYGON) does: each edge moves out along its normal and each
    /// corner becomes an arc. Arcs are sampled at steps of at most <paramref name="maxArcStep"/> radians.
    /// </summary>
    public static List<PointF> Unclip(IReadOnlyList<PointF> convexPolygon, double ratio, double maxArcStep = Math.PI / 32)
    {
        var hull = ConvexHull(convexPolygon);
        var perimeter = Perimeter(hull);
        if (hull.Count < 3 || perimeter == 0) return [.. hull];
        var distance = Area(hull) * ratio / perimeter;
        var result = new List<PointF>(hull.Count * 8);
        for (var i = 0; i < hull.Count; i++)
        {
            var previous = hull[(i + hull.Count - 1) % hull.Count];
            var current = hull[i];
            var next = hull[(i + 1) % hull.Count];
            // The hull has positive signed area (interior on the left of each edge), so the outward normal of edge a→b is (dy, −dx).
            var a0 = OutwardNormalAngle(previous, current);
            var a1 = OutwardNormalAngle(current, next);
            var sweep = a1 - a0;
            while (sweep < 0) sweep += 2 * Math.PI;
            while (sweep > 2 * Math.PI) sweep -= 2 * Math.PI;
            var steps = Math.Max(1, (int)Math.Ceiling(sweep / maxArcStep));
            for (var s = 0; s <= steps; s++)
            {
                var angle = a0 + sweep * s / steps;
                result.Add(new PointF((float)(current.X + distance * Math.Cos(angle)), (float)(current.Y + distance * Math.Sin(angle))));
            }
        }
        return result;
    }

    private static double OutwardNormalAngle(PointF a, PointF b)
    {
        double dx = b.X - a.X, dy = b.Y - a.Y;
        return Math.Atan2(-dx, dy);
    }
}
