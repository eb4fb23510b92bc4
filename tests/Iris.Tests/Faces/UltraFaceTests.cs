using System.Text.Json;
using Iris.Core.Faces;
using Iris.Core.Imaging;
using Iris.Tests.Support;

namespace Iris.Tests.Faces;

public sealed class UltraFaceTests : IDisposable
{
    private readonly MirrorModels _models = new();

    public static TheoryData<string, string> FaceImages()
    {
        var expected = JsonDocument.Parse(File.ReadAllText(TestPaths.RealImage("expected.json"))).RootElement.GetProperty("images");
        var data = new TheoryData<string, string>();
        foreach (var model in new[] { "ultraface-rfb-320", "ultraface-rfb-640" })
            foreach (var image in expected.EnumerateObject().Where(i => i.Value.TryGetProperty("faces", out _)))
                data.Add(model, image.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(FaceImages))]
    public async Task Finds_the_faces_listed_in_expected_json(string model, string file)
    {
        var range = JsonDocument.Parse(File.ReadAllText(TestPaths.RealImage("expected.json"))).RootElement
            .GetProperty("images").GetProperty(file).GetProperty("faces");
        var detector = await _models.Runtime.GetFaceDetectorAsync(model);
        var image = _models.Get<ImageDecoder>().Decode(File.ReadAllBytes(TestPaths.RealImage(file)));

        var result = await detector.DetectAsync(image, new FaceDetectionParameters(detector.DefaultMinConfidence, 100));

        Assert.InRange(result.Faces.Count, range[0].GetInt32(), range[1].GetInt32());
        Assert.All(result.Faces, f =>
        {
            Assert.True(f.Confidence > 0.7f);
            Assert.InRange(f.Box.XMin, 0, f.Box.XMax);
            Assert.InRange(f.Box.XMax, f.Box.XMin, image.Width);
            Assert.InRange(f.Box.YMax, f.Box.YMin, image.Height);
            Assert.True(f.Box.Area > 0);
        });
    }

    [Fact]
    public void Decoder_keeps_scores_above_the_threshold_and_scales_relative_boxes_to_pixels()
    {
        float[] scores = [0.2f, 0.8f, 0.3f, 0.7f, 0.05f, 0.95f];
        float[] boxes = [0.1f, 0.2f, 0.3f, 0.4f, 0, 0, 1, 1, -0.1f, 0.5f, 0.5f, 1.2f];
        var candidates = UltraFaceOutputDecoder.Decode(scores, boxes, 200, 100, 0.7f);
        Assert.Equal(2, candidates.Count); // 0.7 itself is not above 0.7
        AssertBox((20, 20, 60, 40), candidates[0].Box);
        AssertBox((0, 50, 100, 100), candidates[1].Box); // clipped to the image
        Assert.Equal(0.95f, candidates[1].Score);
    }

    private static void AssertBox((float XMin, float YMin, float XMax, float YMax) expected, Iris.Core.Detection.BoundingBox actual)
    {
        Assert.Equal(expected.XMin, actual.XMin, 3);
        Assert.Equal(expected.YMin, actual.YMin, 3);
        Assert.Equal(expected.XMax, actual.XMax, 3);
        Assert.Equal(expected.YMax, actual.YMax, 3);
    }

    [Fact]
    public async Task Overlapping_detections_of_one_face_collapse_to_one_box()
    {
        var detector = await _models.Runtime.GetFaceDetectorAsync("ultraface-rfb-320");
        var image = _models.Get<ImageDecoder>().Decode(File.ReadAllBytes(TestPaths.RealImage("faces-13.jpg")));
        var result = await detector.DetectAsync(image, new FaceDetectionParameters(0.7f, 100));
        foreach (var a in result.Faces)
            foreach (var b in result.Faces.Where(b => !ReferenceEquals(a, b)))
                Assert.True(a.Box.IntersectionOverUnion(b.Box) <= 0.3f);
    }

    public void Dispose() => _models.Dispose();
}
