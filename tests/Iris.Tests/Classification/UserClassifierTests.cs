using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Iris.Tests.Support;

namespace Iris.Tests.Classification;

/// <summary>A user's own classifier: a folder with an ONNX file and a manifest.json in the model cache is served with no code.</summary>
public class UserClassifierTests
{
    private static string Manifest(string name, string classifier) => $$"""
        {
          "name": "{{name}}",
          "task": "classify",
          "version": "0.1",
          "description": "My own flower colour model",
          "files": [ { "path": "model.onnx" } ],
          "classifier": {{classifier}}
        }
        """;

    private static async Task<IrisTestHost> StartWithUserModel(string name, string classifier)
    {
        var cache = new TempDirectory();
        var folder = Directory.CreateDirectory(Path.Combine(cache.Path, name)).FullName;
        File.Copy(Path.Combine(TestPaths.ModelMirror, "petal-color", "petal-color.onnx"), Path.Combine(folder, "model.onnx"));
        await File.WriteAllTextAsync(Path.Combine(folder, "manifest.json"), Manifest(name, classifier));
        return await IrisTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Models:CacheDirectory"] = cache.Path,
            ["Models:Enabled"] = name,
        });
    }

    private static ByteArrayContent Flower(int index)
    {
        var content = new ByteArrayContent(File.ReadAllBytes(Path.Combine(TestPaths.Flowers, $"flower-{index:00}.png")));
        content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        return content;
    }

    [Fact]
    public async Task A_dropped_in_model_and_manifest_is_served_by_classify()
    {
        // The raw preset plus the model's own conventions; labels inline as an index map, no labels file, no checksums.
        await using var host = await StartWithUserModel("my-petals", """
            { "preset": "raw", "model": "model.onnx", "layout": "nhwc",
              "classes": { "0": "red", "1": "orange", "2": "yellow", "3": "pink", "4": "purple", "5": "blue", "6": "white" } }
            """);
        await host.WaitUntilReadyAsync();

        var models = JsonDocument.Parse(await host.Client.GetStringAsync("/v1/models")).RootElement.ToString();
        Assert.Contains("my-petals", models);

        using var response = await host.Client.PostAsync("/v1/classify?model=my-petals&top_k=1", Flower(0));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var prediction = JsonDocument.Parse(body).RootElement.GetProperty("predictions")[0];
        Assert.Equal("purple", prediction.GetProperty("label").GetString()); // petal-color-reference.json: flower-00 is purple
        Assert.Equal(4, prediction.GetProperty("class_index").GetInt32());
    }

    [Fact]
    public async Task A_manifest_that_contradicts_the_onnx_input_makes_the_model_not_ready_with_the_reason()
    {
        // The model is NHWC; declaring NCHW must be caught at load, not produce garbage.
        await using var host = await StartWithUserModel("wrong-layout", """{ "preset": "raw", "model": "model.onnx", "layout": "nchw", "input_width": 64, "input_height": 64 }""");
        using var response = await host.Client.PostAsync("/v1/classify?model=wrong-layout", Flower(0));
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("check layout and input size", body);
    }
}
