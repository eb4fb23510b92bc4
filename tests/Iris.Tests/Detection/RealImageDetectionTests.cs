using System.Net.Http.Headers;
using System.Text.Json;
using Iris.Tests.Support;

namespace Iris.Tests.Detection;

/// <summary>YOLOX-Nano over HTTP on real photos finds what shared/testdata/real/expected.json lists.</summary>
public class RealImageDetectionTests(ReadyIrisHost server) : IClassFixture<ReadyIrisHost>
{
    public static TheoryData<string> ImagesWithDetectExpectations()
    {
        var data = new TheoryData<string>();
        foreach (var image in Expected().EnumerateObject())
            if (image.Value.TryGetProperty("detect", out _))
                data.Add(image.Name);
        return data;
    }

    private static JsonElement Expected() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.RealImages, "expected.json"))).RootElement.GetProperty("images");

    [Theory]
    [MemberData(nameof(ImagesWithDetectExpectations))]
    public async Task Finds_the_expected_objects_at_min_confidence_0_3(string file)
    {
        var expected = Expected().GetProperty(file).GetProperty("detect");
        using var content = new ByteArrayContent(await File.ReadAllBytesAsync(TestPaths.RealImage(file)));
        content.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        using var response = await server.Host.Client.PostAsync("/v1/detect?min_confidence=0.3", content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);

        using var document = JsonDocument.Parse(body);
        var labels = document.RootElement.GetProperty("objects").EnumerateArray()
            .Select(o => o.GetProperty("label").GetString()!).ToList();
        var found = $"{file}: found [{string.Join(", ", labels)}]";

        if (expected.TryGetProperty("must_include", out var mustInclude))
            foreach (var label in mustInclude.EnumerateArray())
                Assert.True(labels.Contains(label.GetString()!), $"missing '{label}' — {found}");
        if (expected.TryGetProperty("counts", out var counts))
            foreach (var count in counts.EnumerateObject())
            {
                var n = labels.Count(l => l == count.Name);
                Assert.True(n >= count.Value[0].GetInt32() && n <= count.Value[1].GetInt32(),
                    $"'{count.Name}' found {n} times, expected {count.Value[0]}–{count.Value[1]} — {found}");
            }
        if (expected.TryGetProperty("any_of", out var anyOf))
            foreach (var group in anyOf.EnumerateArray())
                Assert.True(group.EnumerateArray().Any(l => labels.Contains(l.GetString()!)), $"none of {group} — {found}");
    }

    [Fact]
    public async Task Boxes_are_in_original_pixels_and_inside_the_image()
    {
        using var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(await File.ReadAllBytesAsync(TestPaths.RealImage("dog.jpg"))), "image", "dog.jpg");
        using var response = await server.Host.Client.PostAsync("/v1/detect", form);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = document.RootElement;
        Assert.Equal((768, 576), (root.GetProperty("width").GetInt32(), root.GetProperty("height").GetInt32()));
        var dog = root.GetProperty("objects").EnumerateArray().Single(o => o.GetProperty("label").GetString() == "dog");
        var box = dog.GetProperty("box");
        // The dog sits in the lower left of the photo (YOLOX demo: about 130,220 → 310,540).
        Assert.InRange(box.GetProperty("x_min").GetSingle(), 100, 170);
        Assert.InRange(box.GetProperty("y_min").GetSingle(), 180, 250);
        Assert.InRange(box.GetProperty("x_max").GetSingle(), 290, 360);
        Assert.InRange(box.GetProperty("y_max").GetSingle(), 510, 576);
        foreach (var timing in new[] { "decode", "preprocess", "inference", "postprocess" })
            Assert.True(root.GetProperty("timings_ms").GetProperty(timing).GetDouble() >= 0);
    }
}
