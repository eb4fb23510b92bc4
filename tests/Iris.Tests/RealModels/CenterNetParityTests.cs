using Iris.Core.Detection;
using Iris.Core.Imaging;
using Iris.Core.Imaging.Preprocessing;
using Iris.Tests.Support;
using Microsoft.ML.OnnxRuntime;

namespace Iris.Tests.RealModels;

/// <summary>centernet-mbv3's heads, decoded by <see cref="CenterNetOutputDecoder"/>, give the peaks the TF.js graph gave (reference.json).</summary>
public sealed class CenterNetParityTests : IDisposable
{
    // The README's tolerances (heatmap 1e-6, box edges 2e-3 px) plus the reference's rounding (scores to 5 decimals, boxes to 3).
    private const float ScoreTolerance = 1e-6f + 5e-6f;
    private const float BoxTolerance = 2e-3f + 5e-4f;

    private static readonly string[] Labels = File.ReadAllLines(Path.Combine(TestPaths.ModelMirror, "centernet-mbv3", "labels.txt"));
    private readonly MirrorModels _models = new();

    public static TheoryData<string> Images()
    {
        var data = new TheoryData<string>();
        foreach (var property in RealModelReference.Load().GetProperty("centernet-mbv3").EnumerateObject())
            data.Add(property.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Images))]
    public void Peaks_at_or_above_0_3_equal_the_tfjs_graphs_in_order_label_score_and_box(string file)
    {
        var reference = RealModelReference.Load().GetProperty("centernet-mbv3").GetProperty(file);
        var (heatmap, edges) = Heads(file);

        var peaks = CenterNetOutputDecoder.Decode(heatmap, edges, 128, 128, 80, stride: 4, topK: 100, minScore: 0.3f);

        var expected = reference.GetProperty("peaks_at_least_0.3").EnumerateArray().ToList();
        Assert.Equal(expected.Count, peaks.Count);
        for (var i = 0; i < peaks.Count; i++)
        {
            var want = expected[i];
            var box = want.GetProperty("box_512").EnumerateArray().Select(e => e.GetSingle()).ToArray();
            Assert.Equal(want.GetProperty("label").GetString(), Labels[peaks[i].ClassIndex]);
            Assert.True(Math.Abs(want.GetProperty("score").GetSingle() - peaks[i].Score) <= ScoreTolerance, $"{file} peak {i}: score {peaks[i].Score}");
            float[] got = [peaks[i].Box.XMin, peaks[i].Box.YMin, peaks[i].Box.XMax, peaks[i].Box.YMax];
            for (var k = 0; k < 4; k++)
                Assert.True(Math.Abs(box[k] - got[k]) <= BoxTolerance, $"{file} peak {i} edge {k}: TF.js {box[k]}, Iris {got[k]}");
        }
        Assert.True(Math.Abs(reference.GetProperty("keypoints_max").GetSingle() - heatmap.Max()) <= 1e-6f + 5e-7f);
        var whSum = edges.Sum(v => (double)v);
        Assert.True(Math.Abs(reference.GetProperty("wh_sum").GetDouble() - whSum) <= 1e-5 * whSum, $"{file}: wh sum {whSum}");
    }

    [Fact]
    public async Task Detect_with_the_manifest_model_finds_the_stop_sign_in_image_pixels_after_nms()
    {
        var detector = await _models.Runtime.GetAsync<IObjectDetector>("centernet-mbv3", "detect");
        var image = _models.Get<ImageDecoder>().Decode(File.ReadAllBytes(TestPaths.RealImage("coco-000000000724.jpg")));

        var result = await detector.DetectAsync(image, new DetectionParameters(0.3f, 100));

        Assert.Equal("centernet-mbv3", result.Model);
        var top = result.Objects[0];
        Assert.Equal("stop sign", top.Label);
        Assert.InRange(top.Confidence, 0.9f, 1f);
        // The reference box in 512-pixel input coordinates, scaled to the photo (the stretch is undone per axis).
        Assert.InRange(top.Box.XMin, 163.465f * image.Width / 512 - 0.03f * image.Width, 163.465f * image.Width / 512 + 0.03f * image.Width);
        Assert.InRange(top.Box.YMax, 237.158f * image.Height / 512 - 0.03f * image.Height, 237.158f * image.Height / 512 + 0.03f * image.Height);
        Assert.All(result.Objects, o => Assert.True(o.Box.XMin >= 0 && o.Box.XMax <= image.Width && o.Box.YMax <= image.Height));
    }

    [Fact]
    public void Nms_across_classes_keeps_one_box_where_two_classes_peak_in_the_same_cell()
    {
        var (heatmap, edges) = Heads("dog-512.png");
        var peaks = CenterNetOutputDecoder.Decode(heatmap, edges, 128, 128, 80, 4, 100, 0.3f);
        var candidates = peaks.Select(p => new YoloxOutputDecoder.Candidate(p.ClassIndex, p.Score, p.Box)).ToList();

        var kept = NonMaxSuppression.AcrossClasses(candidates, 0.4f, 10);

        // car and truck share one cell and box; the two bicycles overlap: Human keeps car, bicycle, dog, parking meter.
        Assert.Equal(["car", "bicycle", "dog", "parking meter"], kept.Select(k => Labels[k.ClassIndex]));
    }

    private (float[] Heatmap, float[] Edges) Heads(string file)
    {
        var image = _models.Get<ImageDecoder>().Decode(File.ReadAllBytes(RealModelReference.File(file)));
        var tensor = new float[512 * 512 * 3];
        TensorFlowBilinear.Write(image, 512, 512, alignCorners: false, new TensorFormat(TensorLayout.Nhwc, false, PixelNormalization.None), tensor);
        using var session = new InferenceSession(Path.Combine(TestPaths.ModelMirror, "centernet-mbv3", "model.onnx"));
        using var input = OrtValue.CreateTensorValueFromMemory(tensor, [1, 512, 512, 3]);
        using var outputs = session.Run(new RunOptions(), ["tower_0/images"], [input], ["tower_0/keypoints", "tower_0/wh"]);
        return (outputs[0].GetTensorDataAsSpan<float>().ToArray(), outputs[1].GetTensorDataAsSpan<float>().ToArray());
    }

    public void Dispose() => _models.Dispose();
}
