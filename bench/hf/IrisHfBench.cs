#:project ../../src/Iris.Core/Iris.Core.csproj
#:property PublishAot=false

// Iris's side of the captioning / CLIP benchmark (bench/hf/run.sh runs it beside transformers.js, peer.mjs):
// the same model folders and images, best of ROUNDS, printed as one JSON line.
// Usage: dotnet run -c Release IrisHfBench.cs -- SHARED_DIR ROUNDS
using System.Diagnostics;
using System.Text.Json;
using Iris.Core.Captioning;
using Iris.Core.Embeddings;
using Iris.Core.Imaging;
using Iris.Core.Inference;
using Iris.Core.Models;

var shared = args.Length > 0 ? args[0] : "../../../shared";
var rounds = args.Length > 1 ? int.Parse(args[1]) : 3;
var models = Path.Combine(shared, "models");
using var reference = JsonDocument.Parse(File.ReadAllText(Path.Combine(shared, "testdata/flowers/reference.json")));
var refImages = reference.RootElement.GetProperty("images").EnumerateArray().ToList();
var queries = reference.RootElement.GetProperty("clip_queries").EnumerateArray().Select(q => q.GetProperty("text").GetString()!).ToList();
var decoder = new ImageDecoder(ImageLimits.Default);
var images = refImages.Select(i => decoder.Decode(File.ReadAllBytes(Path.Combine(shared, "testdata/flowers", i.GetProperty("file").GetString()!)))).ToList();
var manifests = BuiltInManifests.Load().ToDictionary(m => m.Name);
var threads = int.TryParse(Environment.GetEnvironmentVariable("IRIS_BENCH_THREADS"), out var t) ? t : 0;
var sessions = new OnnxSessionFactory(new InferenceSettings(IntraOpThreads: threads));
var result = new Dictionary<string, object> { ["engine"] = "iris", ["threads"] = threads == 0 ? "default" : threads, ["onnxruntime"] = typeof(Microsoft.ML.OnnxRuntime.InferenceSession).Assembly.GetName().Version!.ToString() };

// Each variant as Iris serves it (the decoder's encoder work split off and run once per image) and, as a reference
// in the same run, with the graph run whole as exported (the manifest's hoist_encoder_work: false).
foreach (var (label, manifestName, hoist) in new[]
{
    ("fp32", "flower-captioner-tiny", true), ("quantized", "flower-captioner-tiny-quantized", true),
    ("fp32_whole_graph", "flower-captioner-tiny", false), ("quantized_whole_graph", "flower-captioner-tiny-quantized", false),
})
{
    var manifest = manifests[manifestName];
    if (!hoist) manifest = manifest with { Sections = WithSection(manifest, "captioner", new { quantized = label.StartsWith("quantized"), hoist_encoder_work = false }) };
    using var captioner = ImageCaptionerLoader.Load(manifest, Path.Combine(models, "flower-captioner-tiny"), sessions);
    result[$"hoisting_{label}"] = captioner.EncoderWorkHoisting;
    foreach (var (name, beams, key) in new[] { ("greedy", 1, "greedy"), ("beam3", 3, "beam3") })
    {
        var overrides = new GenerationOverrides { MaxNewTokens = 32, NumBeams = beams };
        await captioner.DescribeAsync(images[0], overrides);
        // One image per call, as the peer's pipeline runs them; then the whole set as one batch.
        double bestSingle = double.MaxValue, bestBatch = double.MaxValue;
        var same = 0;
        for (var r = 0; r < rounds; r++)
        {
            var clock = Stopwatch.StartNew();
            same = 0;
            for (var i = 0; i < images.Count; i++)
            {
                var caption = (await captioner.DescribeAsync(images[i], overrides)).Captions[0].Text;
                if (caption == refImages[i].GetProperty(key).GetProperty("text").GetString()) same++;
            }
            bestSingle = Math.Min(bestSingle, clock.Elapsed.TotalSeconds);
            clock.Restart();
            await captioner.DescribeAsync(images, overrides);
            bestBatch = Math.Min(bestBatch, clock.Elapsed.TotalSeconds);
        }
        result[$"{name}_{label}"] = new
        {
            captions_per_s = Math.Round(images.Count / bestSingle, 1),
            batched_captions_per_s = Math.Round(images.Count / bestBatch, 1),
            equal_to_reference = same,
            of = images.Count,
        };
    }
}

using (var clip = ClipModelLoader.Load(manifests["clip-tiny"], Path.Combine(models, "clip-tiny"), sessions))
{
    await clip.EmbedImagesAsync([images[0]]);
    await clip.EmbedTextsAsync([queries[0]]);
    double bestImage = double.MaxValue, bestText = double.MaxValue;
    for (var r = 0; r < rounds; r++)
    {
        var clock = Stopwatch.StartNew();
        foreach (var image in images) await clip.EmbedImagesAsync([image]);
        bestImage = Math.Min(bestImage, clock.Elapsed.TotalSeconds);
        clock.Restart();
        foreach (var query in queries) await clip.EmbedTextsAsync([query]);
        bestText = Math.Min(bestText, clock.Elapsed.TotalSeconds);
    }
    result["image_embeddings_per_s"] = Math.Round(images.Count / bestImage, 1);
    result["text_embeddings_per_s"] = Math.Round(queries.Count / bestText, 1);
}
Console.WriteLine(JsonSerializer.Serialize(result));

static Dictionary<string, JsonElement> WithSection(ModelManifest manifest, string key, object value) =>
    new(manifest.Sections ?? []) { [key] = JsonSerializer.SerializeToElement(value) };
