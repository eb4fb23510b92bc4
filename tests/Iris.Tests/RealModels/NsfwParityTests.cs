using System.Text.Json;
using Iris.Core.Classification;
using Iris.Core.Imaging;
using Iris.Tests.Support;

namespace Iris.Tests.RealModels;

/// <summary>nsfw-mobilenet-v2, served from its manifest alone, computes what nsfwjs's TF.js model computed (reference.json).</summary>
public sealed class NsfwParityTests : IDisposable
{
    // The model README's worst case (1.2e-7) plus the reference's rounding to 7 decimals.
    private const float Tolerance = 2.5e-7f;

    private readonly MirrorModels _models = new();

    public static TheoryData<string> Images()
    {
        var data = new TheoryData<string>();
        foreach (var property in RealModelReference.Load().GetProperty("nsfw-mobilenet-v2").EnumerateObject())
            data.Add(property.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Images))]
    public async Task The_five_probabilities_equal_the_tfjs_reference_within_the_readme_tolerance(string file)
    {
        var expected = RealModelReference.Load().GetProperty("nsfw-mobilenet-v2").GetProperty(file).EnumerateArray().Select(e => e.GetSingle()).ToArray();
        var classifier = await _models.Runtime.GetClassifierAsync("nsfw-mobilenet-v2");
        var image = _models.Get<ImageDecoder>().Decode(File.ReadAllBytes(RealModelReference.File(file)));

        var probabilities = await classifier.ProbabilitiesAsync(image);

        Assert.Equal(["Drawing", "Hentai", "Neutral", "Porn", "Sexy"], classifier.Labels);
        Assert.Equal(expected.Length, probabilities.Length);
        for (var c = 0; c < expected.Length; c++)
            Assert.True(Math.Abs(expected[c] - probabilities[c]) <= Tolerance,
                $"{file} {classifier.Labels![c]}: TF.js {expected[c]:G7}, Iris {probabilities[c]:G7}");
    }

    public void Dispose() => _models.Dispose();
}

/// <summary>The reference outputs of the original TF.js models, <c>shared/testdata/real-models</c>.</summary>
internal static class RealModelReference
{
    public static string Folder => Path.Combine(TestPaths.Shared, "testdata", "real-models");

    public static string File(string name) => Path.Combine(Folder, name);

    public static JsonElement Load() => JsonDocument.Parse(System.IO.File.ReadAllText(File("reference.json"))).RootElement;
}
