using Iris.Core.Captioning;
using Iris.Core.Inference;
using Iris.Core.Models;
using Iris.Tests.Support;
using Microsoft.ML.OnnxRuntime;

namespace Iris.Tests.Captioning;

/// <summary>
/// Optimum's older two-file decoder layout (decoder_model.onnx for the first step, decoder_with_past_model.onnx after),
/// derived from the mirror's merged decoder by Support/Scripts/split_merged_decoder.py (python3-onnx).
/// </summary>
public sealed class SplitDecoderLayoutTests
{
    [Fact]
    public async Task Decoder_pair_layout_gives_the_reference_captions_for_greedy_and_beam_search()
    {
        using var folder = await LayoutFolderAsync(ifMerged: false);
        var builtIn = FlowerReference.Manifest("flower-captioner-tiny");
        var manifest = builtIn with
        {
            Files = [.. builtIn.Files.Where(f => !f.Path.Contains("decoder_model_merged")),
                new ModelFile { Path = "onnx/decoder_model.onnx" }, new ModelFile { Path = "onnx/decoder_with_past_model.onnx" }],
        };
        using var captioner = ImageCaptionerLoader.Load(manifest, folder.Path, Sessions);
        Assert.Equal("split", captioner.DecoderLayout);
        Assert.Equal("6 tensors computed once per image", captioner.EncoderWorkHoisting);
        await AssertReferenceCaptionsAsync(captioner);
    }

    [Theory]
    [InlineData(true, "6 tensors computed once per image (cache branch of the merged graph)")]
    [InlineData(false, "off")]
    public async Task Optimum_merged_decoder_with_an_if_on_use_cache_branch_gives_the_reference_captions(bool hoist, string hoisting)
    {
        using var folder = await LayoutFolderAsync(ifMerged: true);
        var builtIn = FlowerReference.Manifest("flower-captioner-tiny");
        var manifest = builtIn with
        {
            Sections = new() { ["captioner"] = System.Text.Json.JsonSerializer.SerializeToElement(new { hoist_encoder_work = hoist }) },
        };
        using var captioner = ImageCaptionerLoader.Load(manifest, folder.Path, Sessions);
        Assert.Equal("merged", captioner.DecoderLayout);
        // Split, every step runs the then branch (the first with an empty cache); whole, the If picks a branch per step.
        Assert.Equal(hoisting, captioner.EncoderWorkHoisting);
        await AssertReferenceCaptionsAsync(captioner);
    }

    [Fact]
    public async Task A_split_whose_logits_differ_from_the_exported_graph_is_not_used()
    {
        // The cache branch adds 1 to every logit, so it is not what the exported graph runs for the first token.
        using var folder = await LayoutFolderAsync(ifMerged: true, "--offset-cache-branch", "1.0");
        using var captioner = ImageCaptionerLoader.Load(FlowerReference.Manifest("flower-captioner-tiny"), folder.Path, Sessions);
        Assert.StartsWith("not split: its logits differ from the exported graph's by 1 ", captioner.EncoderWorkHoisting);
        // The whole graph runs; a constant shift changes neither argmax nor log-softmax.
        await AssertReferenceCaptionsAsync(captioner);
    }

    private static readonly OnnxSessionFactory Sessions = new(new InferenceSettings(1, 0, GraphOptimizationLevel.ORT_ENABLE_ALL));

    /// <summary>
    /// The mirror's captioner with its decoder in another layout: the pair decoder_model + decoder_with_past_model,
    /// or Optimum's merged graph with an If on use_cache_branch built from that pair.
    /// </summary>
    private static async Task<TempDirectory> LayoutFolderAsync(bool ifMerged, params string[] mergeOptions)
    {
        var folder = new TempDirectory();
        var mirror = FlowerReference.MirrorFolder("flower-captioner-tiny");
        Directory.CreateDirectory(folder.File("onnx"));
        foreach (var file in Directory.EnumerateFiles(mirror, "*.json").Concat(Directory.EnumerateFiles(mirror, "*.txt")))
            File.Copy(file, folder.File(Path.GetFileName(file)));
        File.Copy(Path.Combine(mirror, "onnx", "encoder_model.onnx"), folder.File("onnx/encoder_model.onnx"));
        await PythonScripts.RunAsync("split_merged_decoder.py", Path.Combine(mirror, "onnx", "decoder_model_merged.onnx"), folder.File("onnx"));
        if (ifMerged)
        {
            await PythonScripts.RunAsync("make_if_merged_decoder.py", [folder.File("onnx"), .. mergeOptions]);
            File.Delete(folder.File("onnx/decoder_model.onnx"));
            File.Delete(folder.File("onnx/decoder_with_past_model.onnx"));
        }
        return folder;
    }

    private static async Task AssertReferenceCaptionsAsync(ImageCaptioner captioner)
    {
        var images = FlowerReference.Images.Select(i => FlowerReference.Decode(i.File)).ToList();
        var greedy = await captioner.DescribeAsync(images, new GenerationOverrides { MaxNewTokens = 32, NumBeams = 1 });
        var beam = await captioner.DescribeAsync(images, new GenerationOverrides { MaxNewTokens = 32, NumBeams = 3 });
        for (var i = 0; i < images.Count; i++)
        {
            Assert.Equal(FlowerReference.Trim(FlowerReference.Images[i].Greedy.Ids, 0), greedy.Captions[i].TokenIds);
            Assert.Equal(FlowerReference.Trim(FlowerReference.Images[i].Beam3.Ids, 0), beam.Captions[i].TokenIds);
        }
    }

    [Fact]
    public void A_folder_with_a_decoder_but_no_cached_decoder_is_refused_with_the_reason()
    {
        using var folder = new TempDirectory();
        var mirror = FlowerReference.MirrorFolder("flower-captioner-tiny");
        var builtIn = FlowerReference.Manifest("flower-captioner-tiny");
        var manifest = builtIn with { Files = [.. builtIn.Files.Where(f => !f.Path.Contains("decoder_model_merged"))] };
        var error = Assert.Throws<InvalidModelManifestException>(() =>
            ImageCaptionerLoader.Load(manifest, mirror, new OnnxSessionFactory(new InferenceSettings())));
        Assert.Contains("decoder_model", error.Message);
    }
}
