using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Iris.Tests.Support;

namespace Iris.Tests.RealModels;

/// <summary>centernet-mbv3 and nsfw-mobilenet-v2 through the doors every model has: /v1/detect, analyze, DeepStack's custom route, the CLI.</summary>
public sealed class RealModelDoorsTests(ReadyIrisHost server) : IClassFixture<ReadyIrisHost>
{
    private static ByteArrayContent Photo(string name)
    {
        var content = new ByteArrayContent(File.ReadAllBytes(TestPaths.RealImage(name)));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("image/jpeg");
        return content;
    }

    private async Task<JsonElement> PostOk(string path, HttpContent content)
    {
        using var response = await server.Host.Client.PostAsync(path, content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    [Fact]
    public async Task Detect_with_model_centernet_mbv3_finds_the_stop_sign_and_names_the_model()
    {
        var result = await PostOk("/v1/detect?model=centernet-mbv3&min_confidence=0.3", Photo("coco-000000000724.jpg"));

        Assert.Equal("centernet-mbv3", result.GetProperty("model").GetString());
        Assert.Equal("stop sign", result.GetProperty("objects")[0].GetProperty("label").GetString());
    }

    [Fact]
    public async Task Analyze_sections_of_model_tasks_each_name_their_model()
    {
        var result = await PostOk("/v1/analyze?tasks=detect,faces,classify,moderate,info&detect_model=centernet-mbv3", Photo("dog.jpg"));

        Assert.Equal("centernet-mbv3", result.GetProperty("detect").GetProperty("model").GetString());
        Assert.Equal("ultraface-rfb-320", result.GetProperty("faces").GetProperty("model").GetString());
        Assert.Equal("petal-color", result.GetProperty("classify").GetProperty("model").GetString());
        Assert.Equal("nsfw-mobilenet-v2", result.GetProperty("moderate").GetProperty("model").GetString());
        Assert.Contains(result.GetProperty("detect").GetProperty("objects").EnumerateArray(), o => o.GetProperty("label").GetString() == "dog");
    }

    [Fact]
    public async Task DeepStacks_custom_route_runs_centernet_mbv3_by_name()
    {
        using var form = new MultipartFormDataContent { { Photo("coco-000000000724.jpg"), "image", "stop.jpg" }, { new StringContent("0.5"), "min_confidence" } };
        var result = await PostOk("/v1/vision/custom/centernet-mbv3", form);

        Assert.True(result.GetProperty("success").GetBoolean());
        Assert.Equal("stop sign", Assert.Single(result.GetProperty("predictions").EnumerateArray()).GetProperty("label").GetString());
    }

    [Fact]
    public async Task The_cli_detects_with_centernet_and_moderates_with_help_text()
    {
        using var cache = new TempDirectory();
        var detect = await IrisProcess.RunAsync(["detect", TestPaths.RealImage("coco-000000000724.jpg"), "--model", "centernet-mbv3", "--min-confidence", "0.5",
            "--json", "--mirror", TestPaths.ModelMirror, "--model-cache", cache.Path]);
        Assert.True(detect.ExitCode == 0, detect.StandardError);
        Assert.Equal("stop sign", JsonDocument.Parse(detect.StandardOutput).RootElement[0].GetProperty("result").GetProperty("objects")[0].GetProperty("label").GetString());

        var moderate = await IrisProcess.RunAsync(["moderate", TestPaths.RealImage("dog.jpg"), "--json", "--mirror", TestPaths.ModelMirror, "--model-cache", cache.Path]);
        Assert.True(moderate.ExitCode == 0, moderate.StandardError);
        var verdict = JsonDocument.Parse(moderate.StandardOutput).RootElement[0].GetProperty("result");
        Assert.True(verdict.GetProperty("safe").GetBoolean());
        Assert.Equal("nsfw-mobilenet-v2", verdict.GetProperty("model").GetString());

        var help = await IrisProcess.RunAsync(["moderate", "--help"]);
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("--sexy-threshold", help.StandardOutput);
        Assert.Contains("Moderation:PornThreshold", help.StandardOutput);
    }
}
