using System.Net.Http.Json;
using System.Text.Json;
using Iris.Configuration;
using Iris.Core.Models;
using Iris.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Iris.Tests.Models;

public sealed class HubPullTests
{
    // The clients the server and CLI use, from the same registration.
    private static readonly IHttpClientFactory Clients =
        new ServiceCollection().AddIrisHttpClients(new IrisOptions()).BuildServiceProvider().GetRequiredService<IHttpClientFactory>();

    private static HubClient Client(HubServer hub, TempDirectory cache, string? token = null) =>
        new(hub.Address, token, cache.Path, downloadAttempts: 3, Clients.CreateClient(HttpClients.Hub), Clients.CreateClient(HttpClients.HubHead));

    private static async Task<HubServer> StartHubAsync()
    {
        var hub = await HubServer.StartAsync();
        hub.AddRepository("flowers/captioner", FlowerReference.MirrorFolder("flower-captioner-tiny"));
        hub.AddRepository("flowers/clip", FlowerReference.MirrorFolder("clip-tiny"));
        return hub;
    }

    [Fact]
    public async Task Pulled_captioner_gets_a_generated_manifest_and_is_served_with_the_reference_caption()
    {
        await using var hub = await StartHubAsync();
        using var cache = new TempDirectory();
        using var client = Client(hub, cache);
        var result = await client.PullAsync(HubReference.Parse("hf:flowers/captioner"), "hub-captioner", [], false, false, null, default);

        Assert.Equal(HubServer.Commit, result.Commit);
        Assert.Equal("describe", result.Manifest.Task);
        Assert.Equal($"hf:flowers/captioner@{HubServer.Commit}", result.Manifest.Source);
        var paths = result.Manifest.Files.Select(f => f.Path).ToList();
        Assert.Contains("onnx/encoder_model.onnx", paths);
        Assert.Contains("onnx/decoder_model_merged.onnx", paths);
        Assert.Contains("generation_config.json", paths);
        Assert.DoesNotContain("onnx/encoder_model_quantized.onnx", paths);
        Assert.All(result.Manifest.Files, f => Assert.Matches("^[0-9a-f]{64}$", f.Sha256!));
        Assert.All(result.Manifest.Files, f => Assert.Contains($"/flowers/captioner/resolve/{HubServer.Commit}/", f.Urls[0]));
        Assert.True(File.Exists(Path.Combine(cache.Path, "hub-captioner", "manifest.json")));

        await using var host = await IrisTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Models:CacheDirectory"] = cache.Path,
            ["Models:Mirror"] = null,
            ["Models:Enabled"] = "hub-captioner",
        }, withMirror: false);
        await host.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        var form = new MultipartFormDataContent { { new ByteArrayContent(File.ReadAllBytes(Path.Combine(FlowerReference.Folder, "flower-06.png"))), "image", "f.png" } };
        using var response = await host.Client.PostAsync("/v1/describe?model=hub-captioner&num_beams=3&max_new_tokens=32", form);
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(FlowerReference.ForFile("flower-06.png").Beam3.Text, json.GetProperty("description").GetString());
    }

    [Fact]
    public async Task Quantized_pull_takes_the_quantized_onnx_files_and_marks_the_manifest()
    {
        await using var hub = await StartHubAsync();
        using var cache = new TempDirectory();
        using var client = Client(hub, cache);
        var result = await client.PullAsync(HubReference.Parse("hf:flowers/captioner@main"), "q", [], true, false, null, default);
        var paths = result.Manifest.Files.Select(f => f.Path).ToList();
        Assert.Contains("onnx/decoder_model_merged_quantized.onnx", paths);
        Assert.DoesNotContain("onnx/decoder_model_merged.onnx", paths);
        Assert.True(result.Manifest.Section<Iris.Core.Captioning.CaptionerSpec>("captioner").Quantized);
    }

    [Fact]
    public async Task A_dropped_download_resumes_with_a_range_request_and_verifies()
    {
        await using var hub = await StartHubAsync();
        using var cache = new TempDirectory();
        hub.AbortNextDownloads(1);
        using var client = Client(hub, cache);
        var result = await client.PullAsync(HubReference.Parse("hf:flowers/clip"), "clip-hub", [], false, false, null, default);
        Assert.Equal("embed", result.Manifest.Task);
        Assert.Contains(hub.CdnRangeHeaders, r => r is not null && r.StartsWith("bytes="));
        var vision = result.Manifest.Files.Single(f => f.Path == "onnx/vision_model.onnx");
        Assert.Equal(FlowerReference.Manifest("clip-tiny").File("onnx/vision_model.onnx").Sha256, vision.Sha256);
    }

    [Fact]
    public async Task A_corrupted_lfs_file_fails_its_sha256_and_is_never_installed()
    {
        await using var hub = await StartHubAsync();
        using var cache = new TempDirectory();
        hub.Corrupt.Add("onnx/text_model.onnx");
        var error = await Assert.ThrowsAsync<ModelPullException>(() =>
            Client(hub, cache).PullAsync(HubReference.Parse("hf:flowers/clip"), "clip-hub", [], false, false, null, default));
        Assert.Contains("sha256", error.Message);
        Assert.False(File.Exists(Path.Combine(cache.Path, "clip-hub", "onnx", "text_model.onnx")));
        Assert.False(File.Exists(Path.Combine(cache.Path, "clip-hub", "manifest.json")));
    }

    [Fact]
    public async Task A_corrupted_small_file_fails_its_git_blob_sha1()
    {
        await using var hub = await StartHubAsync();
        using var cache = new TempDirectory();
        hub.Corrupt.Add("tokenizer.json");
        var error = await Assert.ThrowsAsync<ModelPullException>(() =>
            Client(hub, cache).PullAsync(HubReference.Parse("hf:flowers/clip"), "clip-hub", [], false, false, null, default));
        Assert.Contains("git blob sha1", error.Message);
        Assert.False(File.Exists(Path.Combine(cache.Path, "clip-hub", "tokenizer.json")));
    }

    [Fact]
    public async Task Without_blob_listing_the_hashes_come_from_head_requests_on_the_resolve_urls()
    {
        await using var hub = await StartHubAsync();
        hub.ListBlobs = false;
        hub.Corrupt.Add("onnx/vision_model.onnx");
        using var cache = new TempDirectory();
        var error = await Assert.ThrowsAsync<ModelPullException>(() =>
            Client(hub, cache).PullAsync(HubReference.Parse("hf:flowers/clip"), "clip-hub", [], false, false, null, default));
        Assert.Contains("sha256", error.Message);
        Assert.Contains(hub.Requests, r => r.StartsWith("HEAD /flowers/clip/resolve/"));
    }

    [Fact]
    public async Task A_private_repository_needs_the_token_which_never_reaches_the_cdn()
    {
        await using var hub = await StartHubAsync();
        hub.RequiredToken = "hf_secret";
        using var cache = new TempDirectory();
        var error = await Assert.ThrowsAsync<ModelPullException>(() =>
            Client(hub, cache).PullAsync(HubReference.Parse("hf:flowers/clip"), "clip-hub", [], false, false, null, default));
        Assert.Contains("Models:HubToken", error.Message);

        await Client(hub, cache, "hf_secret").PullAsync(HubReference.Parse("hf:flowers/clip"), "clip-hub", [], false, false, null, default);
        Assert.NotEmpty(hub.CdnAuthorizationHeaders);
        Assert.All(hub.CdnAuthorizationHeaders, Assert.Null);
    }

    [Fact]
    public async Task Unknown_repository_is_reported_as_such()
    {
        await using var hub = await StartHubAsync();
        using var cache = new TempDirectory();
        var error = await Assert.ThrowsAsync<ModelPullException>(() =>
            Client(hub, cache).PullAsync(HubReference.Parse("hf:flowers/nope@v2"), "x", [], false, false, null, default));
        Assert.Contains("404", error.Message);
    }

    [Fact]
    public void File_patterns_select_with_globs_and_default_to_configs_plus_the_onnx_files_iris_runs()
    {
        string[] paths = ["config.json", "tokenizer.json", "README.md", "onnx/encoder_model.onnx", "onnx/encoder_model_quantized.onnx",
            "onnx/encoder_model_fp16.onnx", "onnx/decoder_model.onnx", "onnx/decoder_with_past_model.onnx", "onnx/decoder_model_merged.onnx"];
        Assert.Equal(["config.json", "tokenizer.json", "onnx/encoder_model.onnx", "onnx/decoder_model_merged.onnx"], HubClient.Select(paths, [], false));
        Assert.Equal(["config.json", "tokenizer.json", "onnx/encoder_model_quantized.onnx"], HubClient.Select(paths, [], true));
        Assert.Equal(["onnx/encoder_model_quantized.onnx"], HubClient.Select(paths, ["onnx/*_quantized.onnx"], false));
        Assert.Equal(["README.md", "onnx/encoder_model_fp16.onnx"], HubClient.Select(paths, ["*.md", "**/*fp16*"], false));
    }

    [Theory]
    [InlineData("hf:Xenova/clip-vit-base-patch32", "Xenova/clip-vit-base-patch32", "main", "clip-vit-base-patch32")]
    [InlineData("hf:cristianglezm/ViT-GPT2-FlowerCaptioner-ONNX@v1.0", "cristianglezm/ViT-GPT2-FlowerCaptioner-ONNX", "v1.0", "vit-gpt2-flowercaptioner-onnx")]
    public void Hub_references_parse_owner_name_and_revision(string text, string repository, string revision, string name)
    {
        var reference = HubReference.Parse(text);
        Assert.Equal(repository, reference.Repository);
        Assert.Equal(revision, reference.Revision);
        Assert.Equal(name, reference.DefaultModelName);
    }

    [Theory]
    [InlineData("hf:noslash")]
    [InlineData("hf:a/b/c")]
    [InlineData("hf:../etc@main")]
    public void Malformed_hub_references_are_rejected(string text) => Assert.Throws<ArgumentException>(() => HubReference.Parse(text));

    [Fact]
    public async Task Cli_pull_of_a_hub_repository_installs_it_for_later_commands()
    {
        await using var hub = await StartHubAsync();
        using var cache = new TempDirectory();
        var pull = await IrisProcess.RunAsync(["models", "pull", "hf:flowers/clip", "--name", "clip-from-hub", "--model-cache", cache.Path,
            "--set", $"Models:HubEndpoint={hub.Address}"]);
        Assert.True(pull.ExitCode == 0, pull.StandardError + pull.StandardOutput);
        Assert.Contains("as a 'embed' model", pull.StandardOutput);

        var list = await IrisProcess.RunAsync(["models", "list", "--json", "--model-cache", cache.Path]);
        Assert.Contains("clip-from-hub", list.StandardOutput);
        var verify = await IrisProcess.RunAsync(["models", "verify", "clip-from-hub", "--model-cache", cache.Path]);
        Assert.Equal(0, verify.ExitCode);
    }
}
