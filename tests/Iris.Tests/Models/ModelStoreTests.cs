using System.Security.Cryptography;
using Iris.Core.Models;
using Iris.Tests.Support;

namespace Iris.Tests.Models;

public class ModelStoreTests
{
    private static ModelManifest YoloxManifest() => BuiltInManifests.Load().Single(m => m.Name == "yolox-nano");

    private static ModelManifest SingleFile(string name, byte[] content, IReadOnlyList<string> urls, string? sha256 = null) => new()
    {
        Name = name,
        Task = "detect-test",
        Files = [new ModelFile { Path = "weights.onnx", Bytes = content.Length, Sha256 = sha256 ?? Convert.ToHexStringLower(SHA256.HashData(content)), Urls = urls }],
    };

    private static ModelStore Store(string cache, string? mirror = null) =>
        new(cache, mirror, new ModelDownloader(new HttpClient(), maxAttempts: 4));

    [Fact]
    public async Task Mirror_pull_copies_and_verifies_every_file()
    {
        using var cache = new TempDirectory();
        var store = Store(cache.Path, TestPaths.ModelMirror);
        var manifest = YoloxManifest();

        await store.PullAsync(manifest);

        Assert.True(store.IsInstalled(manifest));
        Assert.All(store.Verify(manifest), c => Assert.Equal(ModelFileState.Ok, c.State));
        Assert.Empty(Directory.GetFiles(cache.Path, "*.part", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Mirror_file_with_a_wrong_sha256_is_rejected_and_never_installed()
    {
        using var cache = new TempDirectory();
        using var mirror = new TempDirectory();
        var manifest = YoloxManifest();
        Directory.CreateDirectory(Path.Combine(mirror.Path, "yolox-nano"));
        foreach (var file in manifest.Files)
        {
            var bytes = File.ReadAllBytes(Path.Combine(TestPaths.ModelMirror, file.MirrorPath!));
            bytes[^1] ^= 0xFF; // same size, different content
            File.WriteAllBytes(Path.Combine(mirror.Path, file.MirrorPath!), bytes);
        }

        var error = await Assert.ThrowsAsync<ModelPullException>(() => Store(cache.Path, mirror.Path).PullAsync(manifest));

        Assert.Contains("sha256", error.Message);
        Assert.False(File.Exists(Path.Combine(cache.Path, "yolox-nano", "yolox_nano.onnx")));
        Assert.Empty(Directory.GetFiles(cache.Path, "*.part", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Http_pull_resumes_an_interrupted_download_with_a_range_request()
    {
        await using var server = await FileServer.StartAsync();
        var content = RandomNumberGenerator.GetBytes(3_000_000);
        var url = server.Add("models/weights.onnx", content);
        server.AbortNextResponses(1);
        using var cache = new TempDirectory();
        var manifest = SingleFile("resumable", content, [url.ToString()]);

        await Store(cache.Path).PullAsync(manifest);

        Assert.Equal(content, File.ReadAllBytes(Path.Combine(cache.Path, "resumable", "weights.onnx")));
        Assert.Null(server.RangeHeaders[0]);
        Assert.Matches(@"^bytes=\d+-$", server.RangeHeaders[1]);
        Assert.NotEqual("bytes=0-", server.RangeHeaders[1]);
    }

    [Fact]
    public async Task Http_pull_rejects_a_file_whose_sha256_does_not_match()
    {
        await using var server = await FileServer.StartAsync();
        var content = RandomNumberGenerator.GetBytes(10_000);
        var url = server.Add("models/evil.onnx", content);
        using var cache = new TempDirectory();
        var manifest = SingleFile("tampered", content, [url.ToString()], sha256: new string('0', 64));

        var error = await Assert.ThrowsAsync<ModelPullException>(() => Store(cache.Path).PullAsync(manifest));

        Assert.Contains("sha256", error.Message);
        Assert.False(File.Exists(Path.Combine(cache.Path, "tampered", "weights.onnx")));
        Assert.False(File.Exists(Path.Combine(cache.Path, "tampered", "weights.onnx.part")));
    }

    [Fact]
    public async Task Http_pull_falls_back_to_the_next_url_when_one_is_missing()
    {
        await using var server = await FileServer.StartAsync();
        var content = RandomNumberGenerator.GetBytes(5_000);
        var good = server.Add("b/weights.onnx", content);
        using var cache = new TempDirectory();
        var manifest = SingleFile("fallback", content, [new Uri(server.Address, "a/missing.onnx").ToString(), good.ToString()]);

        await Store(cache.Path).PullAsync(manifest);

        Assert.True(Store(cache.Path).IsInstalled(manifest));
    }

    [Fact]
    public async Task Pull_without_mirror_or_urls_explains_what_to_configure()
    {
        using var cache = new TempDirectory();
        var manifest = SingleFile("nowhere", [1, 2, 3], []);
        var error = await Assert.ThrowsAsync<ModelPullException>(() => Store(cache.Path).PullAsync(manifest));
        Assert.Contains("Models:Mirror", error.Message);
    }

    [Fact]
    public async Task Verify_reports_a_file_corrupted_after_install_and_remove_deletes_it()
    {
        using var cache = new TempDirectory();
        var store = Store(cache.Path, TestPaths.ModelMirror);
        var manifest = YoloxManifest();
        await store.PullAsync(manifest);
        var labels = Path.Combine(cache.Path, "yolox-nano", "coco-labels.txt");
        File.WriteAllText(labels, File.ReadAllText(labels).Replace("person", "persom"));

        var check = store.Verify(manifest).Single(c => c.Path == "coco-labels.txt");
        Assert.Equal(ModelFileState.ChecksumMismatch, check.State);

        Assert.True(store.Remove(manifest));
        Assert.False(Directory.Exists(Path.Combine(cache.Path, "yolox-nano")));
    }

    [Fact]
    public void Every_model_of_the_shared_catalog_has_a_built_in_manifest_with_the_same_files()
    {
        using var catalogJson = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.ModelMirror, "catalog.json")));
        var manifests = BuiltInManifests.Load().ToDictionary(m => m.Name);
        foreach (var model in catalogJson.RootElement.GetProperty("models").EnumerateArray())
        {
            var manifest = manifests[model.GetProperty("name").GetString()!];
            foreach (var file in model.GetProperty("files").EnumerateArray())
            {
                var entry = manifest.Files.Single(f => f.MirrorPath == file.GetProperty("path").GetString());
                Assert.Equal(file.GetProperty("sha256").GetString(), entry.Sha256);
                Assert.Equal(file.GetProperty("bytes").GetInt64(), entry.Bytes);
            }
        }
    }

    [Fact]
    public void Every_incoming_model_of_the_shared_catalog_that_has_a_built_in_manifest_lists_the_same_files()
    {
        // "incoming" lists mirror models that are being given manifests; the mirror serves them by mirror_path like any other.
        using var catalogJson = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.ModelMirror, "catalog.json")));
        var manifests = BuiltInManifests.Load().ToDictionary(m => m.Name);
        if (!catalogJson.RootElement.TryGetProperty("incoming", out var incoming)) return;
        foreach (var model in incoming.EnumerateArray())
        {
            if (!manifests.TryGetValue(model.GetProperty("name").GetString()!, out var manifest)) continue;
            foreach (var file in model.GetProperty("files").EnumerateArray())
            {
                var entry = manifest.Files.Single(f => f.MirrorPath == file.GetProperty("path").GetString());
                Assert.Equal(file.GetProperty("sha256").GetString(), entry.Sha256);
                Assert.Equal(file.GetProperty("bytes").GetInt64(), entry.Bytes);
                Assert.True(File.Exists(Path.Combine(TestPaths.ModelMirror, entry.MirrorPath!)), $"{entry.MirrorPath} is not in the mirror");
            }
        }
    }

    [Fact]
    public void A_users_manifest_in_the_cache_adds_a_model_to_the_catalog()
    {
        using var cache = new TempDirectory();
        Directory.CreateDirectory(Path.Combine(cache.Path, "my-detector"));
        var manifest = YoloxManifest() with { Name = "my-detector" };
        File.WriteAllText(Path.Combine(cache.Path, "my-detector", "manifest.json"),
            System.Text.Json.JsonSerializer.Serialize(manifest, ModelManifest.JsonOptions));
        Directory.CreateDirectory(Path.Combine(cache.Path, "broken"));
        File.WriteAllText(Path.Combine(cache.Path, "broken", "manifest.json"), "{ not json");

        var catalog = new ModelCatalog(BuiltInManifests.Load(), cache.Path);

        Assert.Equal("detect", catalog.Get("my-detector").Task);
        Assert.True(catalog.Contains("yolox-nano"));
        Assert.False(catalog.Contains("broken"));
    }

    [Theory]
    [InlineData("../escape.onnx")]
    [InlineData("/etc/passwd")]
    public void Manifest_file_paths_must_stay_inside_the_model_folder(string path)
    {
        var manifest = new ModelManifest { Name = "bad", Task = "detect-test", Files = [new ModelFile { Path = path }] };
        Assert.Throws<InvalidModelManifestException>(manifest.Validate);
    }
}
