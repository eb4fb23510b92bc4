using System.Text.Json;
using Iris.Core.Classification;
using Iris.Core.Imaging;
using Iris.Core.Imaging.Preprocessing;
using Iris.Tests.Support;

namespace Iris.Tests.Classification;

/// <summary>The mirror's petal-color model, served from its manifest alone, agrees with the PyTorch reference.</summary>
public sealed class PetalColorParityTests : IDisposable
{
    private readonly MirrorModels _models = new();

    public static TheoryData<string> Flowers()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.EnumerateFiles(TestPaths.Flowers, "flower-*.png").Order())
            data.Add(Path.GetFileName(path));
        return data;
    }

    [Theory]
    [MemberData(nameof(Flowers))]
    public async Task Top1_equals_the_reference_and_probabilities_are_within_0_02_of_its_softmax(string file)
    {
        var reference = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.Flowers, "petal-color-reference.json"))).RootElement;
        var index = int.Parse(file["flower-".Length..^".png".Length]);
        var logits = reference.GetProperty("logits")[index].EnumerateArray().Select(e => e.GetSingle()).ToArray();
        var expected = new float[logits.Length];
        Softmax.Apply(logits, expected);
        var labels = reference.GetProperty("labels").EnumerateArray().Select(e => e.GetString()!).ToArray();

        var classifier = await _models.Runtime.GetClassifierAsync("petal-color");
        var image = _models.Get<ImageDecoder>().Decode(File.ReadAllBytes(Path.Combine(TestPaths.Flowers, file)));
        var probabilities = await classifier.ProbabilitiesAsync(image);

        Assert.Equal(expected.Length, probabilities.Length);
        for (var c = 0; c < expected.Length; c++)
            Assert.True(Math.Abs(expected[c] - probabilities[c]) <= 0.02f,
                $"{file} class {labels[c]}: reference {expected[c]:F4}, Iris {probabilities[c]:F4}");
        var result = await classifier.ClassifyAsync(image, new ClassificationParameters(1, 0f));
        var top = Assert.Single(result.Predictions);
        Assert.Equal(Array.IndexOf(logits, logits.Max()), top.ClassIndex);
        Assert.Equal(labels[top.ClassIndex], top.Label);
    }

    public void Dispose() => _models.Dispose();
}

/// <summary>The torchvision geometry (shorter side, then centre crop) through a real ONNX model, from a user's manifest.</summary>
public sealed class CenterCropClassifierTests : IDisposable
{
    private readonly MirrorModels _models = new();

    [Fact]
    public async Task A_torchvision_preset_manifest_with_overrides_crops_the_centre_and_still_reads_the_flowers()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_models.CacheDirectory, "petals-cropped")).FullName;
        File.Copy(Path.Combine(TestPaths.ModelMirror, "petal-color", "petal-color.onnx"), Path.Combine(folder, "model.onnx"));
        File.Copy(Path.Combine(TestPaths.ModelMirror, "petal-color", "labels.txt"), Path.Combine(folder, "labels.txt"));
        await File.WriteAllTextAsync(Path.Combine(folder, "manifest.json"), """
            { "name": "petals-cropped", "task": "classify", "files": [ { "path": "model.onnx" }, { "path": "labels.txt" } ],
              "classifier": { "preset": "torchvision", "model": "model.onnx", "labels": "labels.txt", "layout": "nhwc",
                              "input_width": 64, "input_height": 64, "resize_size": 72, "mean": [0, 0, 0], "std": [1, 1, 1] } }
            """);
        var classifier = await _models.Runtime.GetClassifierAsync("petals-cropped");
        Assert.Equal(ClassifierResize.CenterCrop, classifier.Settings.Resize);
        Assert.Equal(new ResizePlan(72, 72, 4, 4, 64, 64), classifier.PlanFor(128, 128));

        var reference = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.Flowers, "petal-color-reference.json"))).RootElement;
        var decoder = _models.Get<ImageDecoder>();
        var agree = 0;
        for (var i = 0; i < 20; i++)
        {
            var logits = reference.GetProperty("logits")[i].EnumerateArray().Select(e => e.GetSingle()).ToList();
            var image = decoder.Decode(File.ReadAllBytes(Path.Combine(TestPaths.Flowers, $"flower-{i:00}.png")));
            var top = (await classifier.ClassifyAsync(image, new ClassificationParameters(1, 0f))).Predictions[0];
            if (top.ClassIndex == logits.IndexOf(logits.Max())) agree++;
        }
        // The crop drops the outer 6% of each side, which the petals do not reach: the colour read stays the same.
        Assert.Equal(20, agree);
    }

    public void Dispose() => _models.Dispose();
}
