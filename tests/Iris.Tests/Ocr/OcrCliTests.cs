using System.Text.Json;
using Iris.Tests.Support;

namespace Iris.Tests.Ocr;

public class OcrCliTests
{
    [Fact]
    public async Task Iris_ocr_prints_the_text_of_each_file_under_its_name()
    {
        using var cache = new TempDirectory();
        var result = await IrisProcess.RunAsync(
            ["ocr", TestPaths.RealImage("ocr-chinese-line.jpg"), TestPaths.RealImage("ocr-exif-orientation.jpg"),
             "--mirror", TestPaths.ModelMirror, "--model-cache", cache.Path], timeout: TimeSpan.FromMinutes(2));
        Assert.True(result.ExitCode == 0, result.StandardError);
        Assert.Equal(
            "==> ocr-chinese-line.jpg <==\n在中国作家协会第三届儿童文学\n==> ocr-exif-orientation.jpg <==\n我是中国人\n",
            result.StandardOutput.Replace("\r\n", "\n"));
    }

    [Fact]
    public async Task Iris_ocr_json_gives_the_http_document_and_exits_1_for_a_file_that_is_not_an_image()
    {
        using var cache = new TempDirectory();
        var notAnImage = cache.File("notes.png");
        await File.WriteAllTextAsync(notAnImage, "hello");
        var result = await IrisProcess.RunAsync(
            ["ocr", TestPaths.RealImage("ocr-latin.jpg"), notAnImage, "--json", "--mirror", TestPaths.ModelMirror, "--model-cache", cache.Path],
            timeout: TimeSpan.FromMinutes(2));
        Assert.Equal(1, result.ExitCode);
        using var document = JsonDocument.Parse(result.StandardOutput);
        var first = document.RootElement[0].GetProperty("result");
        Assert.StartsWith("Alphabetum in mundo", first.GetProperty("text").GetString());
        Assert.Equal(4, first.GetProperty("lines")[0].GetProperty("polygon").GetArrayLength());
        Assert.True(document.RootElement[1].TryGetProperty("error", out _));
    }
}
