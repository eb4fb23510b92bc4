using Iris.Core.Detection;
using Iris.Core.Inference;
using Iris.Core.Models;
using Iris.Tests.Support;

namespace Iris.Tests.Inference;

public class ModelRuntimeTests
{
    private static ModelRuntime Runtime(string cache, string? mirror, bool autoPull = true)
    {
        var catalog = new ModelCatalog(BuiltInManifests.Load(), cache);
        var store = new ModelStore(cache, mirror, new ModelDownloader(new HttpClient(), 1));
        return new ModelRuntime(catalog, store, [new YoloxDetectorLoader(new OnnxSessionFactory(new InferenceSettings()))], autoPull, verifyOnLoad: true);
    }

    [Fact]
    public async Task A_model_whose_onnx_file_cannot_load_is_reported_failed_and_does_not_throw_at_warm_up()
    {
        using var cache = new TempDirectory();
        // A user's detector without checksums, whose weights file is not ONNX at all.
        var manifest = BuiltInManifests.Load().Single(m => m.Name == "yolox-nano") with
        {
            Name = "broken-detector",
            Files = [new ModelFile { Path = "yolox_nano.onnx" }, new ModelFile { Path = "coco-labels.txt" }],
        };
        var folder = Path.Combine(cache.Path, "broken-detector");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "yolox_nano.onnx"), "definitely not a protobuf");
        File.Copy(Path.Combine(TestPaths.ModelMirror, "yolox-nano", "coco-labels.txt"), Path.Combine(folder, "coco-labels.txt"));
        File.WriteAllText(Path.Combine(folder, "manifest.json"), System.Text.Json.JsonSerializer.Serialize(manifest, ModelManifest.JsonOptions));
        using var runtime = Runtime(cache.Path, mirror: null);

        await runtime.WarmUpAsync("broken-detector", CancellationToken.None);

        var status = runtime.Status("broken-detector");
        Assert.Equal(ModelState.Failed, status.State);
        Assert.Contains("loading failed", status.Error);
        var error = await Assert.ThrowsAsync<ModelNotReadyException>(() => runtime.GetDetectorAsync("broken-detector"));
        Assert.Contains("broken-detector", error.Message);
    }

    [Fact]
    public async Task Sessions_are_created_once_and_shared_by_every_caller()
    {
        using var cache = new TempDirectory();
        using var runtime = Runtime(cache.Path, TestPaths.ModelMirror);
        var detectors = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => runtime.GetDetectorAsync("yolox-nano")));
        Assert.All(detectors, d => Assert.Same(detectors[0], d));
        Assert.Equal(ModelState.Ready, runtime.Status("yolox-nano").State);
    }

    [Fact]
    public async Task A_missing_model_is_pulled_from_the_mirror_on_first_use_when_auto_pull_is_on()
    {
        using var cache = new TempDirectory();
        using var runtime = Runtime(cache.Path, TestPaths.ModelMirror);
        Assert.False(runtime.Status("yolox-nano").Installed);
        await runtime.GetDetectorAsync("yolox-nano");
        Assert.True(runtime.Status("yolox-nano").Installed);
    }
}
