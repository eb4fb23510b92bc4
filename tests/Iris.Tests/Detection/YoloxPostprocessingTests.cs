using Iris.Core.Detection;

namespace Iris.Tests.Detection;

public class YoloxPostprocessingTests
{
    private const int Classes = 3;
    private static readonly int[] Strides = [8, 16, 32];

    private static float[] EmptyOutput(int size) =>
        new float[Strides.Sum(s => (size / s) * (size / s)) * (5 + Classes)];

    [Fact]
    public void Decodes_grid_offsets_and_log_sizes_per_stride_back_to_image_pixels()
    {
        var output = EmptyOutput(64);
        // Stride 16 starts after the 8×8 grid of stride 8; point (x=2, y=1) of the 4×4 grid.
        var row = 8 * 8 + 1 * 4 + 2;
        var p = output.AsSpan(row * (5 + Classes));
        p[0] = 0.5f; p[1] = 0.25f; p[2] = MathF.Log(2); p[3] = MathF.Log(1);
        p[4] = 0.9f; p[5 + 1] = 0.8f;

        var candidates = YoloxOutputDecoder.Decode(output, Classes, 64, 64, Strides, ratio: 0.5f, imageWidth: 1000, imageHeight: 1000, minScore: 0.3f);

        var c = Assert.Single(candidates);
        Assert.Equal(1, c.ClassIndex);
        Assert.Equal(0.72f, c.Score, 4);
        // cx = (0.5+2)·16 = 40, cy = (0.25+1)·16 = 20, w = 32, h = 16; then ÷ ratio 0.5.
        Assert.Equal(new BoundingBox(48, 24, 112, 56), c.Box);
    }

    [Fact]
    public void Drops_points_whose_objectness_times_class_score_is_below_the_threshold()
    {
        var output = EmptyOutput(32);
        var p = output.AsSpan(0);
        p[4] = 0.5f; p[5] = 0.5f; // 0.25 < 0.3
        Assert.Empty(YoloxOutputDecoder.Decode(output, Classes, 32, 32, Strides, 1f, 32, 32, 0.3f));
    }

    [Fact]
    public void Clips_boxes_to_the_image()
    {
        var output = EmptyOutput(32);
        var p = output.AsSpan(0);
        p[2] = 3; p[3] = 3; p[4] = 1; p[5] = 1;
        var c = Assert.Single(YoloxOutputDecoder.Decode(output, Classes, 32, 32, Strides, 1f, 20, 10, 0.5f));
        Assert.Equal(new BoundingBox(0, 0, 20, 10), c.Box);
    }

    [Fact]
    public void Rejects_an_output_whose_size_does_not_match_the_strides()
    {
        Assert.Throws<InvalidOperationException>(() =>
            YoloxOutputDecoder.Decode(new float[10], Classes, 32, 32, Strides, 1f, 32, 32, 0.5f));
    }

    [Fact]
    public void Class_aware_nms_suppresses_overlaps_within_a_class_only()
    {
        var box = new BoundingBox(0, 0, 10, 10);
        var shifted = new BoundingBox(1, 0, 11, 10); // IoU 0.82
        var far = new BoundingBox(50, 50, 60, 60);
        var candidates = new List<YoloxOutputDecoder.Candidate>
        {
            new(0, 0.6f, shifted),
            new(0, 0.9f, box),
            new(1, 0.7f, shifted),
            new(0, 0.5f, far),
        };
        var kept = NonMaxSuppression.ClassAware(candidates, 0.45f, 100);
        Assert.Equal(new[] { (0, 0.9f), (1, 0.7f), (0, 0.5f) }, kept.Select(k => (k.ClassIndex, k.Score)));
    }

    [Fact]
    public void Nms_stops_at_max_detections_keeping_the_highest_scores()
    {
        var candidates = Enumerable.Range(0, 10)
            .Select(i => new YoloxOutputDecoder.Candidate(0, i / 10f, new BoundingBox(i * 20, 0, i * 20 + 10, 10)))
            .ToList();
        var kept = NonMaxSuppression.ClassAware(candidates, 0.45f, 3);
        Assert.Equal(new[] { 0.9f, 0.8f, 0.7f }, kept.Select(k => k.Score));
    }

    [Fact]
    public void Iou_of_identical_boxes_is_one_and_of_disjoint_boxes_zero()
    {
        var a = new BoundingBox(0, 0, 4, 4);
        Assert.Equal(1f, a.IntersectionOverUnion(a));
        Assert.Equal(0f, a.IntersectionOverUnion(new BoundingBox(5, 5, 6, 6)));
        Assert.Equal(1f / 7, a.IntersectionOverUnion(new BoundingBox(2, 2, 6, 6)), 5);
    }
}
