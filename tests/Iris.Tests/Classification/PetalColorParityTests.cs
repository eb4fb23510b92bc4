using System.Text.Json;
using Iris.Core.Classification;
using Iris.Core.Imaging;
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
