using System.Net.Http.Headers;
using System.Text.Json;
using Iris.Core.Imaging;
using Iris.Tests.Support;
using Xunit.Abstractions;

namespace Iris.Tests.Ocr;

/// <summary>The real server reads every OCR photo of shared/testdata/real as expected.json says, and as the peer does.</summary>
public sealed class OcrFixture : IAsyncLifetime
{
    public IrisTestHost Host { get; private set; } = null!;
    public TempDirectory Upright { get; } = new();

    /// <summary>Iris's text per image, read once over HTTP from the original file (Iris applies EXIF orientation itself).</summary>
    public Dictionary<string, string> IrisText { get; } = new();

    /// <summary>Iris's individual lines (detected boxes) per image.</summary>
    public Dictionary<string, string[]> IrisLines { get; } = new();

    /// <summary>The peer's lines per image, read from the upright pixels (the peer ignores EXIF orientation).</summary>
    public Dictionary<string, IReadOnlyList<string>> PeerLines { get; } = new();

    public async Task InitializeAsync()
    {
        Host = await IrisTestHost.StartAsync();
        var decoder = new ImageDecoder(new ImageLimits(50_000_000, 100_000_000, TimeSpan.FromSeconds(30)));
        var pngs = new List<string>();
        foreach (var file in RealImageOcrTests.Images())
        {
            var bytes = await File.ReadAllBytesAsync(TestPaths.RealImage(file));
            using var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
            using var response = await Host.Client.PostAsync("/v1/ocr", content);
            var body = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{file}: {body}");
            using var document = JsonDocument.Parse(body);
            IrisText[file] = document.RootElement.GetProperty("text").GetString()!;
            IrisLines[file] = document.RootElement.GetProperty("lines").EnumerateArray().Select(l => l.GetProperty("text").GetString()!).ToArray();

            var image = decoder.Decode(bytes, CancellationToken.None);
            var png = Upright.File(Path.ChangeExtension(file, ".png"));
            using (var vips = NetVips.Image.NewFromMemory(image.Rgb, image.Width, image.Height, 3, NetVips.Enums.BandFormat.Uchar))
                vips.WriteToFile(png);
            pngs.Add(png);
        }
        foreach (var result in await OcrPeer.ReadAsync(pngs))
            PeerLines[Path.ChangeExtension(Path.GetFileName(result.Image), ".jpg")] = result.Lines;
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        Upright.Dispose();
    }
}

public class RealImageOcrTests(OcrFixture fixture, ITestOutputHelper output) : IClassFixture<OcrFixture>
{
    public static IEnumerable<string> Images() =>
        Expected().EnumerateObject().Where(i => i.Value.TryGetProperty("ocr", out _)).Select(i => i.Name);

    public static TheoryData<string> OcrImages() => new(Images());

    private static JsonElement Expected() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.RealImages, "expected.json"))).RootElement.GetProperty("images");

    private static string[] ExpectedLines(string file) =>
        Expected().GetProperty(file).GetProperty("ocr").GetProperty("lines").EnumerateArray().Select(l => l.GetString()!).ToArray();

    [Theory]
    [MemberData(nameof(OcrImages))]
    public void Reads_every_expected_line_with_at_least_90_percent_character_accuracy(string file)
    {
        var text = fixture.IrisText[file];
        output.WriteLine($"Iris: {text}");
        // An expected line may be one detected box or a row of boxes (the text's lines): score the better.
        var rows = text.Split('\n').Concat(fixture.IrisLines[file]).ToArray();
        foreach (var line in ExpectedLines(file))
        {
            var accuracy = TextAccuracy.BestLineAccuracy(line, rows);
            Assert.True(accuracy >= 0.9, $"'{line}' read with accuracy {accuracy:F3}; Iris read:\n{text}");
        }
        foreach (var substring in Expected().GetProperty(file).GetProperty("ocr").GetProperty("must_contain").EnumerateArray())
            Assert.Contains(substring.GetString()!, TextAccuracy.Collapse(text));
    }

    /// <summary>
    /// Iris and the peer read the same characters (whitespace ignored). Where they differ, Iris must be the one
    /// closer to expected.json, and both readings are shown; README "OCR" says why Iris reads those better.
    /// </summary>
    [Theory]
    [MemberData(nameof(OcrImages))]
    public void Reads_the_same_text_as_the_gutenye_peer_or_better(string file)
    {
        var iris = fixture.IrisText[file];
        var peer = string.Join("\n", fixture.PeerLines[file]);
        output.WriteLine($"Iris: {iris}");
        output.WriteLine($"peer: {peer}");
        var irisChars = TextAccuracy.WithoutWhitespace(iris);
        var peerChars = TextAccuracy.WithoutWhitespace(peer);
        if (irisChars == peerChars) return;

        var expected = TextAccuracy.WithoutWhitespace(string.Concat(ExpectedLines(file)));
        var irisErrors = TextAccuracy.EditDistance(expected, irisChars);
        var peerErrors = TextAccuracy.EditDistance(expected, peerChars);
        output.WriteLine($"they differ: {irisErrors} character errors for Iris, {peerErrors} for the peer, against expected.json");
        Assert.True(irisErrors < peerErrors,
            $"Iris and the peer read different text and Iris is not closer to expected.json ({irisErrors} vs {peerErrors} errors).\nIris: {iris}\npeer: {peer}");
    }

    [Fact]
    public async Task Lines_carry_confidence_and_a_clockwise_polygon_inside_the_upright_image()
    {
        using var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(await File.ReadAllBytesAsync(TestPaths.RealImage("ocr-exif-orientation.jpg"))), "image", "x.jpg");
        using var response = await fixture.Host.Client.PostAsync("/v1/ocr", form);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        Assert.Equal("ppocr-v4", root.GetProperty("model").GetString());
        int width = root.GetProperty("width").GetInt32(), height = root.GetProperty("height").GetInt32();
        // The file's pixels are stored on their side; the reader sees them upright, wider than tall.
        Assert.True(width > height, $"{width}×{height}");
        var line = Assert.Single(root.GetProperty("lines").EnumerateArray());
        Assert.Equal("我是中国人", line.GetProperty("text").GetString());
        Assert.InRange(line.GetProperty("confidence").GetSingle(), 0.5f, 1f);
        var polygon = line.GetProperty("polygon").EnumerateArray().Select(p => (X: p[0].GetSingle(), Y: p[1].GetSingle())).ToArray();
        Assert.Equal(4, polygon.Length);
        Assert.All(polygon, p => Assert.True(p.X >= 0 && p.X < width && p.Y >= 0 && p.Y < height, $"{p} outside {width}×{height}"));
        Assert.True(polygon[0].X < polygon[1].X && polygon[1].Y < polygon[2].Y && polygon[3].X < polygon[2].X, body);
        foreach (var stage in new[] { "decode", "detect", "crop", "classify", "recognize", "total" })
            Assert.True(root.GetProperty("timings_ms").GetProperty(stage).GetDouble() >= 0, stage);
    }

    [Theory]
    [InlineData("ocr-care-label.jpg")]
    [InlineData("ocr-paragraph.jpg")]
    public async Task An_upside_down_page_is_read_line_by_line_in_the_pages_own_order(string file)
    {
        using var upright = NetVips.Image.NewFromFile(TestPaths.RealImage(file));
        using var turned = upright.Rot(NetVips.Enums.Angle.D180);
        using var content = new ByteArrayContent(turned.WriteToBuffer(".png"));
        content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        using var response = await fixture.Host.Client.PostAsync("/v1/ocr", content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        var text = JsonDocument.Parse(body).RootElement.GetProperty("text").GetString()!;
        output.WriteLine(text);

        // Each expected line is read (the direction classifier turned it), and they come in the page's order.
        var rows = text.Split('\n');
        var positions = ExpectedLines(file).Select(line =>
        {
            var best = Enumerable.Range(0, rows.Length).MaxBy(i => TextAccuracy.BestLineAccuracy(line, [rows[i]]));
            Assert.True(TextAccuracy.BestLineAccuracy(line, [rows[best]]) >= 0.9, $"'{line}' not read; Iris read:\n{text}");
            return best;
        }).ToList();
        Assert.True(positions.SequenceEqual(positions.Order()), $"lines out of order ({string.Join(", ", positions)}):\n{text}");
    }

    [Fact]
    public async Task Min_confidence_above_every_line_returns_no_text()
    {
        using var content = new ByteArrayContent(await File.ReadAllBytesAsync(TestPaths.RealImage("ocr-latin.jpg")));
        content.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        using var response = await fixture.Host.Client.PostAsync("/v1/ocr?min_confidence=1", content);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("", document.RootElement.GetProperty("text").GetString());
        Assert.Empty(document.RootElement.GetProperty("lines").EnumerateArray());
    }
}
