using System.Security.Cryptography;
using System.Text.Json;
using Iris.Configuration;
using Iris.Core.Inference;
using Iris.Core.Models;
using Iris.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Iris.Tests.Models;

/// <summary>
/// The built-in general-purpose models pinned to Hugging Face Hub repositories (ViT-GPT2 captioner, CLIP ViT-B/32), pulled
/// from the local Hub-layout server: its repositories hold small stand-ins of the same layout (the mirror's flower models).
/// </summary>
public sealed class HubCatalogTests
{
    private static readonly IHttpClientFactory Clients =
        new ServiceCollection().AddIrisHttpClients(new IrisOptions()).BuildServiceProvider().GetRequiredService<IHttpClientFactory>();

    private static readonly string[] HubModels = ["vit-gpt2-image-captioning", "clip-vit-base-patch32"];

    private static HubClient Client(HubServer hub, string cache) =>
        new(hub.Address, null, cache, downloadAttempts: 3, Clients.CreateClient(HttpClients.Hub), Clients.CreateClient(HttpClients.HubHead));

    private static async Task<HubServer> StartHubAsync()
    {
        var hub = await HubServer.StartAsync();
        hub.AddRepository("Xenova/vit-gpt2-image-captioning", FlowerReference.MirrorFolder("flower-captioner-tiny"));
        hub.AddRepository("Xenova/clip-vit-base-patch32", FlowerReference.MirrorFolder("clip-tiny"));
        return hub;
    }

    [Fact]
    public void Each_hub_model_is_pinned_by_repository_and_revision_its_onnx_files_by_sha256_and_downloads_from_the_configured_hub()
    {
        var manifests = HubPin.WithDownloadUrls(BuiltInManifests.Load(), "http://hub.example:8080/").ToDictionary(m => m.Name);
        foreach (var name in HubModels)
        {
            var manifest = manifests[name];
            var pin = HubPin.Of(manifest)!;
            Assert.StartsWith("Xenova/", pin.Repository);
            Assert.All(manifest.Files.Where(f => f.Path.EndsWith(".onnx", StringComparison.Ordinal)), f => Assert.Matches("^[0-9a-f]{64}$", f.Sha256!));
            Assert.All(manifest.Files, f => Assert.Equal($"http://hub.example:8080/{pin.Repository}/resolve/{pin.Revision}/{f.Path}", Assert.Single(f.Urls)));
        }
        Assert.Equal("d15189d7028b43f1d3e65039190477f6af591c2a", HubPin.Of(manifests["clip-vit-base-patch32"])!.Revision);
        // Manifests without a hub section keep their own URLs.
        Assert.Equal(BuiltInManifests.Load().Single(m => m.Name == "yolox-nano").Files[0].Urls, manifests["yolox-nano"].Files[0].Urls);
    }

    [Theory]
    [InlineData("vit-gpt2-image-captioning", "onnx/encoder_model_quantized.onnx")]
    [InlineData("clip-vit-base-patch32", "onnx/text_model.onnx")]
    public async Task A_hub_file_whose_published_sha256_differs_from_the_pinned_one_is_refused_before_any_download(string name, string file)
    {
        await using var hub = await StartHubAsync();
        using var cache = new TempDirectory();
        using var client = Client(hub, cache.Path);
        var manifest = BuiltInManifests.Load().Single(m => m.Name == name);
        // The stand-in's files are not the real ones: the pinned sha256 must catch that.
        var pin = HubPin.Of(manifest)! with { Revision = HubServer.Commit };

        var error = await Assert.ThrowsAsync<ModelPullException>(() => client.PullPinnedAsync(manifest, pin, false, null, default));

        Assert.Contains(file, error.Message);
        Assert.Contains("pins", error.Message);
        Assert.DoesNotContain(hub.Requests, r => r.Contains("/resolve/", StringComparison.Ordinal));
        Assert.False(Directory.Exists(Path.Combine(cache.Path, name)));
    }

    [Fact]
    public async Task The_captioner_manifests_layout_pulls_with_hub_verification_and_is_served_by_the_captioner_loader()
    {
        await using var hub = await StartHubAsync();
        using var models = new MirrorModels();
        var standIn = FlowerReference.MirrorFolder("flower-captioner-tiny");
        var builtIn = BuiltInManifests.Load().Single(m => m.Name == "vit-gpt2-image-captioning");
        // The built-in manifest with the stand-in's sha256 pinned instead of the real files'.
        var manifest = builtIn with
        {
            Files = builtIn.Files.Select(f => f with { Sha256 = f.Sha256 is null ? null : Sha256(Path.Combine(standIn, f.Path)) }).ToList(),
        };
        using (var client = Client(hub, models.CacheDirectory))
            await client.PullPinnedAsync(manifest, HubPin.Of(manifest)! with { Revision = HubServer.Commit }, false, null, default);
        // As a user manifest in the model folder, it replaces the built-in one (whose hashes are the real files').
        File.WriteAllText(Path.Combine(models.CacheDirectory, manifest.Name, "manifest.json"), JsonSerializer.Serialize(manifest, ModelManifest.JsonOptions));

        Assert.Contains(hub.Requests, r => r.Contains($"/revision/{HubServer.Commit}", StringComparison.Ordinal));
        var captioner = await models.Runtime.GetAsync<ILoadedModel>("vit-gpt2-image-captioning", "describe");
        Assert.Equal("vit-gpt2-image-captioning", captioner.Manifest.Name);
    }

    [Fact]
    public async Task A_small_file_whose_git_blob_sha1_differs_from_the_hubs_is_deleted()
    {
        await using var hub = await StartHubAsync();
        hub.Corrupt.Add("tokenizer.json");
        using var cache = new TempDirectory();
        using var client = Client(hub, cache.Path);
        var builtIn = BuiltInManifests.Load().Single(m => m.Name == "clip-vit-base-patch32");
        var manifest = builtIn with { Files = builtIn.Files.Select(f => f with { Sha256 = null, Bytes = null }).ToList() };

        var error = await Assert.ThrowsAsync<ModelPullException>(() => client.PullPinnedAsync(manifest, HubPin.Of(manifest)! with { Revision = HubServer.Commit }, false, null, default));

        Assert.Contains("tokenizer.json", error.Message);
        Assert.False(File.Exists(Path.Combine(cache.Path, manifest.Name, "tokenizer.json")));
    }

    private static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));
}
