using Iris.Core.Detection;
using Iris.Core.Embeddings;
using Iris.Core.Imaging;
using Iris.Core.Imaging.Preprocessing;
using Iris.Core.Inference;
using Iris.Core.Inference.Batching;
using Iris.Core.Inference.Graphs;
using Iris.Core.Models;
using Iris.Tests.Support;
using Microsoft.ML.OnnxRuntime;

namespace Iris.Tests.Inference.Batching;

/// <summary>YOLOX-Nano and the CLIP image tower batched on real photos give what each photo gives alone.</summary>
public class BatchedModelTests
{
    private static readonly string[] Photos = ["dog.jpg", "coco-000000000285.jpg", "coco-000000000724.jpg", "coco-000000000776.jpg",
        "coco-000000000785.jpg", "coco-000000001503.jpg", "coco-000000001584.jpg", "coco-000000001675.jpg"];

    private static readonly BatchingSettings On = new(new BatchingPolicy(8, TimeSpan.Zero, 64));

    private static DecodedImage Decode(string file) => new ImageDecoder(ImageLimits.Default).Decode(File.ReadAllBytes(TestPaths.RealImage(file)));

    private static OnnxSessionFactory Sessions() => new(new InferenceSettings(MaxConcurrentRuns: 1));

    /// <summary>A name of its own, so that batch metrics of servers that other tests run at the same time do not count.</summary>
    private static ModelManifest Renamed(string name, string to) => BuiltInManifests.Load().Single(m => m.Name == name) with { Name = to };

    private static void AssertRowsEqual(float[][] alone, float[] together)
    {
        var row = together.Length / alone.Length;
        for (var p = 0; p < alone.Length; p++)
        {
            Assert.Equal(row, alone[p].Length);
            for (var i = 0; i < row; i++)
            {
                var a = alone[p][i];
                var b = together[p * row + i];
                Assert.True(Math.Abs(a - b) <= 1e-4 * Math.Max(1, Math.Abs(a)), $"row {p} index {i}: {b} batched, {a} alone");
            }
        }
    }

    private static float[] Run(InferenceSession session, string input, float[] data, long[] shape, string output)
    {
        using var value = OrtValue.CreateTensorValueFromMemory(data, shape);
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, [input], [value], [output]);
        return results[0].GetTensorDataAsSpan<float>().ToArray();
    }

    [Fact]
    public void Yolox_rewritten_for_a_batch_gives_each_photo_the_outputs_it_gets_alone_within_1e_4()
    {
        var path = Path.Combine(TestPaths.ModelMirror, "yolox-nano", "yolox_nano.onnx");
        var spec = FlowerReference.Manifest("yolox-nano").Section<DetectorSpec>("detector");
        var format = YoloxDetector.InputFormat(spec);
        var tensors = Photos.Select(file =>
        {
            var tensor = new float[3 * spec.InputWidth * spec.InputHeight];
            Letterbox.Fill(Decode(file), tensor, spec.InputWidth, spec.InputHeight, spec.PadValue, format);
            return tensor;
        }).ToArray();
        var original = File.ReadAllBytes(path);
        Assert.False(BatchDimension.IsSymbolic(original));
        var rewritten = BatchDimension.TryMakeSymbolic(original, out var reason);
        Assert.True(rewritten is not null, reason);
        Assert.True(BatchDimension.IsSymbolic(rewritten));

        var sessions = Sessions();
        using var single = sessions.Create(path);
        using var batched = sessions.Create(rewritten);
        Assert.Equal(-1, batched.InputMetadata["images"].Dimensions[0]);
        var alone = tensors.Select(t => Run(single, "images", t, [1, 3, spec.InputHeight, spec.InputWidth], "output")).ToArray();
        var together = Run(batched, "images", tensors.SelectMany(t => t).ToArray(), [tensors.Length, 3, spec.InputHeight, spec.InputWidth], "output");

        Assert.Equal(alone.Sum(a => a.Length), together.Length);
        AssertRowsEqual(alone, together);
    }

    [Fact]
    public async Task Clip_image_tower_batched_gives_each_photo_the_embedding_it_gets_alone_within_1e_4()
    {
        using var unbatched = ClipModelLoader.Load(FlowerReference.Manifest("clip-tiny"), FlowerReference.MirrorFolder("clip-tiny"), Sessions());
        using var batched = ClipModelLoader.Load(Renamed("clip-tiny", "clip-batching-parity"), FlowerReference.MirrorFolder("clip-tiny"), Sessions(), On);
        Assert.StartsWith("image batching on (batch dimension symbolic as exported", batched.LoadNote);
        var images = Photos.Select(Decode).ToArray();

        var alone = new List<float[]>();
        foreach (var image in images) alone.Add((await unbatched.EmbedImagesAsync([image]))[0].Vector);
        var together = await batched.EmbedImagesAsync(images);

        AssertRowsEqual([.. alone], together.SelectMany(e => e.Vector).ToArray());
    }

    [Fact]
    public async Task Concurrent_detections_share_runs_and_equal_the_sequential_ones()
    {
        const string name = "yolox-batching-concurrency";
        var loader = new YoloxDetectorLoader(Sessions(), new BatchingSettings(BatchingPolicy.Off,
            new Dictionary<string, BatchingPolicy> { [name] = new(8, TimeSpan.Zero, 64) }));
        using var detector = (YoloxDetector)await loader.LoadAsync(Renamed("yolox-nano", name), new ModelFiles(FlowerReference.MirrorFolder("yolox-nano")), CancellationToken.None);
        Assert.StartsWith("batching on (batch dimension made symbolic at load", detector.LoadNote);
        var images = Photos.Concat(Photos).Select(Decode).ToArray();
        var parameters = new DetectionParameters(0.25f, 100);

        var sequential = new List<DetectionResult>();
        foreach (var image in images) sequential.Add(await detector.DetectAsync(image, parameters));
        var sizes = new List<int>();
        using (var listener = IrisMeasurements.ListenForModel<int>("iris.model.batch.size", name, sizes.Add))
        {
            // A thread of its own per caller: a lone run blocks its caller's thread, and in a test process whose thread pool
            // has not grown yet, Task.Run would hand the callers to one pool thread, one after another, with nothing to batch.
            var concurrent = await Task.WhenAll(images.Select(image => Task.Factory.StartNew(() => detector.DetectAsync(image, parameters),
                CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap()));

            for (var i = 0; i < images.Length; i++)
            {
                Assert.Equal(sequential[i].Objects.Select(o => o.Label), concurrent[i].Objects.Select(o => o.Label));
                foreach (var (s, c) in sequential[i].Objects.Zip(concurrent[i].Objects))
                {
                    Assert.Equal(s.Confidence, c.Confidence, 1e-4f);
                    Assert.Equal(s.Box.XMin, c.Box.XMin, 1e-2f);
                    Assert.Equal(s.Box.YMin, c.Box.YMin, 1e-2f);
                    Assert.Equal(s.Box.XMax, c.Box.XMax, 1e-2f);
                    Assert.Equal(s.Box.YMax, c.Box.YMax, 1e-2f);
                }
            }
        }
        Assert.Equal(images.Length, sizes.Sum());
        Assert.True(sizes.Count < images.Length, $"{images.Length} callers ran in {sizes.Count} batches ({string.Join(", ", sizes)})");
    }

    [Fact]
    public async Task A_detector_with_batching_off_says_so_and_detects_as_before()
    {
        var loader = new YoloxDetectorLoader(Sessions(), BatchingSettings.Off);
        using var detector = (YoloxDetector)await loader.LoadAsync(FlowerReference.Manifest("yolox-nano"), new ModelFiles(FlowerReference.MirrorFolder("yolox-nano")), CancellationToken.None);
        Assert.Equal("batching off (MaxBatch 1)", detector.LoadNote);
        var result = await detector.DetectAsync(Decode("dog.jpg"), new DetectionParameters(0.3f, 100));
        Assert.Contains(result.Objects, o => o.Label == "dog");
    }
}
