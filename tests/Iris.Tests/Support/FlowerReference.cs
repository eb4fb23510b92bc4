using System.Text.Json;
using Iris.Core.Imaging;
using Iris.Core.Models;

namespace Iris.Tests.Support;

/// <summary>
/// shared/testdata/flowers/reference.json: what transformers (PyTorch) produced for the synthetic flowers with the
/// mirror's flower-captioner-tiny and clip-tiny. The reference generated all 20 images as one batch, so its token ids
/// are padded after eos to the batch's longest; <see cref="Trim"/> removes that padding.
/// </summary>
public static class FlowerReference
{
    public sealed record Generated(int[] Ids, string Text);
    public sealed record Image(string File, string Truth, Generated Greedy, Generated Beam3, float[] ClipImageEmbeds);
    public sealed record Query(string Text, int[] InputIds, float[] TextEmbeds);

    public static string Folder => Path.Combine(TestPaths.Shared, "testdata", "flowers");

    private static readonly Lazy<(IReadOnlyList<Image> Images, IReadOnlyList<Query> Queries)> Data = new(() =>
    {
        using var document = JsonDocument.Parse(System.IO.File.ReadAllText(Path.Combine(Folder, "reference.json")));
        var root = document.RootElement;
        static Generated Gen(JsonElement e) => new(e.GetProperty("ids").EnumerateArray().Select(i => i.GetInt32()).ToArray(), e.GetProperty("text").GetString()!);
        static float[] Floats(JsonElement e) => e.EnumerateArray().Select(f => f.GetSingle()).ToArray();
        var images = root.GetProperty("images").EnumerateArray().Select(i => new Image(
            i.GetProperty("file").GetString()!, i.GetProperty("truth").GetString()!,
            Gen(i.GetProperty("greedy")), Gen(i.GetProperty("beam3")), Floats(i.GetProperty("clip_image_embeds")))).ToList();
        var queries = root.GetProperty("clip_queries").EnumerateArray().Select(q => new Query(
            q.GetProperty("text").GetString()!, q.GetProperty("input_ids").EnumerateArray().Select(i => i.GetInt32()).ToArray(),
            Floats(q.GetProperty("text_embeds")))).ToList();
        return (images, queries);
    });

    public static IReadOnlyList<Image> Images => Data.Value.Images;
    public static IReadOnlyList<Query> Queries => Data.Value.Queries;

    public static IEnumerable<object[]> ImageFiles => Images.Select(i => new object[] { i.File });

    public static Image ForFile(string file) => Images.Single(i => i.File == file);

    /// <summary>The ids up to and including the first eos after the decoder start token (the batch padding removed).</summary>
    public static int[] Trim(int[] ids, int eos)
    {
        var end = Array.IndexOf(ids, eos, 1);
        return end < 0 ? ids : ids[..(end + 1)];
    }

    public static DecodedImage Decode(string file) =>
        new ImageDecoder(ImageLimits.Default).Decode(System.IO.File.ReadAllBytes(Path.Combine(Folder, file)));

    public static ModelManifest Manifest(string name) => BuiltInManifests.Load().Single(m => m.Name == name);

    public static string MirrorFolder(string name) => Path.Combine(TestPaths.ModelMirror, name);

    public static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }
        return dot / Math.Sqrt(na * nb);
    }
}
