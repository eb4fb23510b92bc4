using Iris.Core.Imaging;
using Iris.Core.Imaging.Preprocessing;
using Iris.Core.Ocr;

namespace Iris.Tests.Ocr;

/// <summary>Each PP-OCR pre/post-processing step on its own, on inputs whose answer is known by construction.</summary>
public class OcrStepTests
{
    private static PointF P(float x, float y) => new(x, y);

    private static DecodedImage Image(int width, int height, byte[]? rgb = null) =>
        new(width, height, rgb ?? new byte[width * height * 3], ImageFormat.Png, 1, 0);

    [Fact]
    public void MinAreaRect_of_a_rotated_rectangle_recovers_its_sides()
    {
        // A 40×10 rectangle turned by 30°, sampled on its outline.
        var points = new List<PointF>();
        double c = Math.Cos(Math.PI / 6), s = Math.Sin(Math.PI / 6);
        for (var u = 0; u <= 40; u++)
            foreach (var v in new[] { 0, 10 })
                points.Add(P((float)(100 + u * c - v * s), (float)(50 + u * s + v * c)));
        var rect = OcrGeometry.MinAreaRect(points);
        Assert.Equal(40, Math.Max(rect.Width, rect.Height), 2);
        Assert.Equal(10, Math.Min(rect.Width, rect.Height), 2);
    }

    [Fact]
    public void Unclip_grows_a_rectangle_by_area_times_ratio_over_perimeter_on_every_side()
    {
        PointF[] box = [P(10, 10), P(110, 10), P(110, 30), P(10, 30)];
        var distance = 100.0 * 20 * 1.5 / 240; // 12.5
        var grown = OcrGeometry.MinAreaRect(OcrGeometry.Unclip(box, 1.5));
        Assert.Equal(100 + 2 * distance, Math.Max(grown.Width, grown.Height), 1);
        Assert.Equal(20 + 2 * distance, Math.Min(grown.Width, grown.Height), 1);
        Assert.Equal(60, grown.Center.X, 1);
        Assert.Equal(20, grown.Center.Y, 1);
    }

    [Fact]
    public void Corners_are_ordered_clockwise_from_top_left()
    {
        var ordered = OcrGeometry.OrderClockwise([P(50, 40), P(0, 0), P(0, 40), P(50, 0)]);
        Assert.Equal([P(0, 0), P(50, 0), P(50, 40), P(0, 40)], ordered);
    }

    [Fact]
    public void Db_postprocessing_finds_one_box_per_text_blob_scaled_back_to_the_image()
    {
        // A 64×32 probability map with two solid blobs; the image is twice as large.
        var map = new float[64 * 32];
        void Blob(int x0, int y0, int x1, int y1, float p)
        {
            for (var y = y0; y <= y1; y++)
                for (var x = x0; x <= x1; x++) map[y * 64 + x] = p;
        }
        Blob(4, 4, 40, 10, 0.9f);
        Blob(10, 20, 50, 26, 0.9f);
        Blob(55, 2, 56, 3, 0.9f); // a 2-pixel speck: too thin to be text
        var boxes = DbPostprocessor.Extract(map, 64, 32, 128, 64, new OcrDetectionSpec());
        Assert.Equal(2, boxes.Count);
        var first = boxes.OrderBy(b => b.Corners[0].Y).First();
        Assert.Equal(0.9f, first.Score, 3);
        // The blob spans x 4..40, y 4..10 in the map; unclipped and doubled, it covers at least that in the image.
        Assert.True(first.Corners[0].X <= 8 && first.Corners[0].Y <= 8, $"top-left {first.Corners[0]}");
        Assert.True(first.Corners[2].X >= 80 && first.Corners[2].Y >= 20, $"bottom-right {first.Corners[2]}");
    }

    [Fact]
    public void Db_postprocessing_drops_regions_whose_mean_probability_is_under_the_box_threshold()
    {
        var map = new float[64 * 32];
        for (var y = 4; y <= 12; y++)
            for (var x = 4; x <= 40; x++) map[y * 64 + x] = 0.5f;
        Assert.Empty(DbPostprocessor.Extract(map, 64, 32, 64, 32, new OcrDetectionSpec { BoxThreshold = 0.6f }));
        Assert.Single(DbPostprocessor.Extract(map, 64, 32, 64, 32, new OcrDetectionSpec { BoxThreshold = 0.4f }));
    }

    [Fact]
    public void Ctc_decoding_merges_repeats_drops_blanks_and_maps_the_last_class_to_a_space()
    {
        var decoder = new CtcDecoder(["a", "b"], spaceCharacter: true); // classes: blank, a, b, space
        int[] path = [1, 1, 0, 1, 2, 2, 3, 0, 0, 2];                  // a a _ a b b ␣ _ _ b
        var probabilities = new float[path.Length * 4];
        for (var t = 0; t < path.Length; t++)
        {
            for (var c = 0; c < 4; c++) probabilities[t * 4 + c] = 0.1f;
            probabilities[t * 4 + path[t]] = t == 0 ? 0.5f : 0.9f;
        }
        var (text, confidence) = decoder.Decode(probabilities, path.Length, 4);
        Assert.Equal("aab b", text);
        Assert.Equal((0.5f + 0.9f * 4) / 5, confidence, 4);
    }

    [Fact]
    public void Ctc_decoding_rejects_a_model_whose_class_count_does_not_match_the_dictionary()
    {
        var decoder = new CtcDecoder(["a", "b"], spaceCharacter: true);
        Assert.Throws<ArgumentException>(() => decoder.Decode(new float[10], 2, 5));
    }

    [Fact]
    public void Detection_size_caps_the_longer_side_at_960_and_rounds_to_multiples_of_32()
    {
        Assert.Equal((960, 640), PpOcrReader.DetectionSize(1000, 667, new OcrDetectionSpec()));
        Assert.Equal((704, 128), PpOcrReader.DetectionSize(709, 132, new OcrDetectionSpec()));
        Assert.Equal((32, 32), PpOcrReader.DetectionSize(10, 5, new OcrDetectionSpec()));
    }

    [Fact]
    public void Line_like_images_are_padded_above_and_below_before_detection()
    {
        var spec = new OcrDetectionSpec();
        Assert.Equal(35, PpOcrReader.PaddingRows(445, 39, spec)); // 2 × max(445/8, 30) = 110 rows in all
        Assert.Equal(0, PpOcrReader.PaddingRows(1000, 667, spec));
    }

    [Fact]
    public void Perspective_crop_of_an_axis_aligned_box_copies_the_pixels()
    {
        var image = Image(20, 10);
        for (var i = 0; i < image.Rgb.Length; i++) image.Rgb[i] = (byte)(i % 251);
        var crop = PerspectiveCrop.Crop(image, [P(2, 3), P(12, 3), P(12, 8), P(2, 8)]);
        Assert.Equal((10, 5), (crop.Width, crop.Height));
        for (var y = 0; y < 5; y++)
            for (var x = 0; x < 10; x++)
                for (var c = 0; c < 3; c++)
                    Assert.Equal(image.Rgb[((y + 3) * 20 + x + 2) * 3 + c], crop.Rgb[(y * 10 + x) * 3 + c]);
    }

    [Fact]
    public void A_degenerate_quadrilateral_gives_no_crop_instead_of_an_error()
    {
        var image = Image(20, 10);
        Assert.Null(PerspectiveCrop.TryCrop(image, [P(5, 5), P(5, 5), P(5, 5), P(5, 5)]));
    }

    [Fact]
    public void A_crop_much_taller_than_wide_is_turned_to_read_as_a_line()
    {
        var image = Image(10, 40);
        var crop = PerspectiveCrop.Crop(image, [P(0, 0), P(8, 0), P(8, 30), P(0, 30)]);
        Assert.Equal((30, 8), (crop.Width, crop.Height));
    }

    [Fact]
    public void The_direction_classifier_sees_the_first_4_to_1_window_of_a_long_line()
    {
        var line = Image(340, 10);
        for (var i = 0; i < line.Rgb.Length; i++) line.Rgb[i] = (byte)(i / 3 % 340);
        var window = PpOcrReader.LeadingWindow(line, 4.0);
        Assert.Equal((40, 10), (window.Width, window.Height));
        Assert.Equal(39, window.Rgb[(9 * 40 + 39) * 3]);
        var shortLine = Image(30, 10);
        Assert.Same(shortLine, PpOcrReader.LeadingWindow(shortLine, 4.0));
    }

    [Fact]
    public void Rotations_move_pixels_where_numpy_rot90_and_a_half_turn_put_them()
    {
        var image = Image(2, 1, [1, 1, 1, 2, 2, 2]); // [A B]
        var left = Rotation.CounterClockwise(image);        // B above A
        Assert.Equal((1, 2), (left.Width, left.Height));
        Assert.Equal([2, 2, 2, 1, 1, 1], left.Rgb);
        Assert.Equal([2, 2, 2, 1, 1, 1], Rotation.HalfTurn(image).Rgb);
    }

    [Fact]
    public void Reading_order_is_top_to_bottom_then_left_to_right_within_10_px()
    {
        OcrLine Line(string text, float x, float y) => new(text, 1, [P(x, y), P(x + 30, y), P(x + 30, y + 12), P(x, y + 12)]);
        var sorted = ReadingOrder.Sort([Line("c", 0, 40), Line("b", 50, 2), Line("a", 0, 6)], l => l.Polygon);
        Assert.Equal(["a", "b", "c"], sorted.Select(l => l.Text));
        Assert.Equal("a b\nc", ReadingOrder.JoinText(sorted));
    }

    [Fact]
    public void A_polygon_turned_180_degrees_keeps_its_corners_clockwise_from_the_new_top_left()
    {
        var turned = ReadingOrder.Turned180([P(10, 20), P(40, 20), P(40, 30), P(10, 30)], 100, 50);
        Assert.Equal([P(59, 19), P(89, 19), P(89, 29), P(59, 29)], turned);
    }
}
