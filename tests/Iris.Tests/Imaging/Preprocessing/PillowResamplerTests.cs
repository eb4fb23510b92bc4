using System.Text.Json;
using Iris.Core.HuggingFace;
using Iris.Core.Imaging;
using Iris.Core.Imaging.Preprocessing;
using Iris.Tests.Support;

namespace Iris.Tests.Imaging.Preprocessing;

public sealed class PillowResamplerTests
{
    private sealed record Case(int Width, int Height, byte[] Source, string Filter, int OutWidth, int OutHeight, byte[] Expected);

    private static readonly Lazy<List<Case>> Cases = new(() =>
    {
        var path = Path.Combine(TestPaths.RepositoryRoot, "tests", "Iris.Tests", "Imaging", "Fixtures", "pil_resize.json");
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        static byte[] Bytes(JsonElement e) => e.EnumerateArray().Select(v => (byte)v.GetInt32()).ToArray();
        var sources = document.RootElement.GetProperty("sources").EnumerateArray().ToList();
        var cases = new List<Case>();
        foreach (var c in document.RootElement.GetProperty("cases").EnumerateArray())
        {
            var source = sources[c.GetProperty("source").GetInt32()];
            cases.Add(new Case(source.GetProperty("width").GetInt32(), source.GetProperty("height").GetInt32(), Bytes(source.GetProperty("rgb")),
                c.GetProperty("filter").GetString()!, c.GetProperty("out_width").GetInt32(), c.GetProperty("out_height").GetInt32(), Bytes(c.GetProperty("expected"))));
        }
        return cases;
    });

    public static IEnumerable<object[]> CaseIndices => Enumerable.Range(0, Cases.Value.Count).Select(i => new object[] { i, $"{Cases.Value[i].Filter} {Cases.Value[i].Width}x{Cases.Value[i].Height}->{Cases.Value[i].OutWidth}x{Cases.Value[i].OutHeight}" });

    [Theory]
    [MemberData(nameof(CaseIndices))]
    public void Resize_matches_pillow_byte_for_byte(int index, string name)
    {
        var c = Cases.Value[index];
        var image = new DecodedImage(c.Width, c.Height, c.Source, ImageFormat.Png, 1, 0);
        var resized = PillowResampler.Resize(image, c.OutWidth, c.OutHeight, Enum.Parse<ResampleFilter>(c.Filter));
        Assert.True(c.Expected.AsSpan().SequenceEqual(resized.Rgb), name);
    }

    [Fact]
    public void Same_size_resize_returns_the_pixels_unfiltered_as_pillow_does()
    {
        var rgb = Enumerable.Range(0, 4 * 3 * 3).Select(i => (byte)(i * 7)).ToArray();
        var image = new DecodedImage(4, 3, rgb, ImageFormat.Png, 1, 0);
        Assert.Same(image, PillowResampler.Resize(image, 4, 3, ResampleFilter.Bicubic));
    }

    [Fact]
    public void Clip_processor_resizes_the_shortest_edge_then_crops_the_centre()
    {
        var processor = HfImageProcessor.FromFile(Path.Combine(FlowerReference.MirrorFolder("clip-tiny"), "preprocessor_config.json"));
        Assert.Equal(ResampleFilter.Bicubic, processor.Resample);
        Assert.Equal((170, 128), processor.ResizedSize(400, 300));
        Assert.Equal((128, 128), processor.OutputSize(new DecodedImage(400, 300, new byte[400 * 300 * 3], ImageFormat.Png, 1, 0)));

        // A 300×200 image, left half black and right half white: after the crop the centre column is the edge.
        var rgb = new byte[300 * 200 * 3];
        for (var y = 0; y < 200; y++)
            for (var x = 150; x < 300; x++)
                rgb[(y * 300 + x) * 3] = rgb[(y * 300 + x) * 3 + 1] = rgb[(y * 300 + x) * 3 + 2] = 255;
        var tensor = new float[3 * 128 * 128];
        processor.Fill(new DecodedImage(300, 200, rgb, ImageFormat.Png, 1, 0), tensor);
        var black = (0f - 0.48145466f) / 0.26862954f;
        var white = (1f - 0.48145466f) / 0.26862954f;
        Assert.Equal(black, tensor[64 * 128 + 10], 4);
        Assert.Equal(white, tensor[64 * 128 + 117], 4);
    }

    [Fact]
    public void Vit_processor_rescales_and_normalises_to_minus_one_to_one()
    {
        var processor = HfImageProcessor.FromFile(Path.Combine(FlowerReference.MirrorFolder("flower-captioner-tiny"), "preprocessor_config.json"));
        var rgb = new byte[128 * 128 * 3];
        for (var i = 0; i < rgb.Length; i += 3) (rgb[i], rgb[i + 1], rgb[i + 2]) = (0, 255, 51);
        var tensor = new float[3 * 128 * 128];
        processor.Fill(new DecodedImage(128, 128, rgb, ImageFormat.Png, 1, 0), tensor);
        Assert.Equal(-1f, tensor[0]);
        Assert.Equal(1f, tensor[128 * 128]);
        Assert.Equal(-0.6f, tensor[2 * 128 * 128], 5);
    }
}
