using System.Text.Json;
using Iris.Core.Detection;
using Iris.Core.Faces;
using Iris.Core.Imaging;
using Iris.Core.Models;
using Iris.Core.Tasks;
using Iris.Core.Tasks.Faces;
using Iris.Tests.Support;
using Xunit.Abstractions;

namespace Iris.Tests.Faces;

public sealed class FaceResTests(ITestOutputHelper output) : IDisposable
{
    private readonly MirrorModels _models = new();

    public static string RealModels => Path.Combine(TestPaths.Shared, "testdata", "real-models");

    private static JsonElement Reference => JsonDocument.Parse(File.ReadAllText(Path.Combine(RealModels, "reference.json"))).RootElement.GetProperty("faceres");

    public static TheoryData<string> ReferenceCrops()
    {
        var data = new TheoryData<string>();
        foreach (var crop in Reference.EnumerateObject()) data.Add(crop.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(ReferenceCrops))]
    public async Task Descriptor_gender_and_age_match_the_original_TFjs_model_within_the_README_tolerances(string file)
    {
        var expected = Reference.GetProperty(file);
        var embedder = await _models.Runtime.GetFaceEmbedderAsync("faceres");
        var image = _models.Get<ImageDecoder>().Decode(File.ReadAllBytes(Path.Combine(RealModels, file)));

        var (faces, _, _) = await embedder.DescribeAsync(image, [FaceCrop.Whole(image.Width, image.Height)]);

        var face = Assert.Single(faces);
        var reference = expected.GetProperty("descriptor").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        Assert.Equal(1024, face.Descriptor.Length);
        // README: descriptors ≤ 5e-6 abs; reference.json rounds to 6 decimals, so 5e-7 more.
        var worst = reference.Select((r, i) => Math.Abs(face.Descriptor[i] * face.RawNorm - r)).Max();
        Assert.True(worst <= 5.5e-6, $"{file}: max abs descriptor difference {worst:E2}");
        Assert.Equal(1f, face.Descriptor.Sum(v => v * v), 4);
        var sigmoid = expected.GetProperty("gender_sigmoid").GetSingle();
        Assert.Equal(sigmoid <= 0.5f ? "female" : "male", face.Gender);
        // README: probabilities ≤ 1.2e-7 abs; reference.json rounds to 6 decimals.
        Assert.InRange(Math.Abs(Math.Min(0.99f, sigmoid <= 0.5f ? 1 - sigmoid : sigmoid) - face.GenderConfidence), 0, 1e-6);
        var argmax = expected.GetProperty("age_argmax").GetInt32();
        Assert.InRange(face.Age, argmax - 1, argmax + 1);
    }

    [Fact]
    public void The_faceres_manifest_carries_the_files_of_the_catalogs_incoming_entry()
    {
        using var catalog = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.ModelMirror, "catalog.json")));
        var entry = catalog.RootElement.GetProperty("incoming").EnumerateArray().Single(m => m.GetProperty("name").GetString() == "faceres");
        var manifest = BuiltInManifests.Load().Single(m => m.Name == "faceres");
        Assert.Equal(entry.GetProperty("task").GetString(), manifest.Task);
        foreach (var file in entry.GetProperty("files").EnumerateArray())
        {
            var own = manifest.Files.Single(f => f.MirrorPath == file.GetProperty("path").GetString());
            Assert.Equal(file.GetProperty("sha256").GetString(), own.Sha256);
            Assert.Equal(file.GetProperty("bytes").GetInt64(), own.Bytes);
        }
    }

    [Fact]
    public void A_crop_is_a_square_around_the_box_with_the_margin_moved_inside_the_image()
    {
        Assert.Equal(new FaceCrop(35, 30, 70), FaceCrop.Around(new BoundingBox(45, 40, 95, 90), 0.2f, 200, 200));
        // Near the left edge: moved right, not cut.
        Assert.Equal(new FaceCrop(0, 30, 70), FaceCrop.Around(new BoundingBox(0, 40, 50, 90), 0.2f, 200, 200));
        // Larger than the image's short side: shrinks to it.
        Assert.Equal(new FaceCrop(5, 0, 50), FaceCrop.Around(new BoundingBox(0, 0, 60, 50), 0.5f, 80, 50));
    }

    [Fact]
    public void The_tensor_is_TF_bilinear_without_half_pixel_centres()
    {
        // A 4×4 grey ramp (value = 10·x + y) halved: TF's legacy rule samples source (2·ox, 2·oy) exactly.
        var rgb = new byte[4 * 4 * 3];
        for (var y = 0; y < 4; y++)
            for (var x = 0; x < 4; x++)
                rgb.AsSpan((y * 4 + x) * 3, 3).Fill((byte)(10 * x + y));
        var tensor = new float[2 * 2 * 3];
        new FaceCrop(0, 0, 4).WriteTensor(rgb, 4, 2, tensor);
        Assert.Equal([0f, 0, 0, 20, 20, 20, 2, 2, 2, 22, 22, 22], tensor);

        // 3 → 2: source positions 0 and 1.5, so the second sample is the mean of columns 1 and 2.
        var small = new byte[3 * 3 * 3];
        for (var x = 0; x < 3; x++) small.AsSpan(x * 3, 3).Fill((byte)(10 * x));
        var two = new float[2 * 2 * 3];
        new FaceCrop(0, 0, 3).WriteTensor(small, 3, 2, two);
        Assert.Equal(15f, two[3]);
    }

    [Fact]
    public async Task Face_embed_finds_the_nine_faces_of_the_group_photo_and_each_reference_crop_matches_its_own_face_best()
    {
        var task = _models.Get<FaceEmbedTask>();
        var analyzer = _models.Get<ImageAnalyzer>();
        var group = (await analyzer.RunAsync(task, task.Read(ParameterReader.None), File.ReadAllBytes(TestPaths.RealImage("faces-16.jpg")))).Result;
        Assert.Equal(9, group.Faces.Count);
        foreach (var face in group.Faces) output.WriteLine($"face {face.Box} crop {face.Crop} conf {face.Confidence:F3} age {face.Description.Age} {face.Description.Gender}");

        foreach (var letter in "abcdefghi")
        {
            var name = $"face-f16{letter}";
            var region = Reference.GetProperty(name + "-224.png").GetProperty("crop_wh_x_y").EnumerateArray().Select(v => v.GetSingle()).ToArray();
            var crop = (await analyzer.RunAsync(task, task.Read(ParameterReader.None), File.ReadAllBytes(Path.Combine(RealModels, name + ".png")))).Result;
            var single = Assert.Single(crop.Faces);
            var ranked = group.Faces.Select(f => (Face: f, Similarity: FaceDescriptors.Similarity(single.Description.Descriptor, f.Description.Descriptor)))
                .OrderByDescending(p => p.Similarity).ToList();
            output.WriteLine($"{name}: best {ranked[0].Similarity:F3}, second {ranked[1].Similarity:F3}");
            var best = ranked[0].Face.Box;
            var (cx, cy) = ((best.XMin + best.XMax) / 2, (best.YMin + best.YMax) / 2);
            Assert.InRange(cx, region[2], region[2] + region[0]);
            Assert.InRange(cy, region[3], region[3] + region[1]);
        }
    }

    public void Dispose() => _models.Dispose();
}
