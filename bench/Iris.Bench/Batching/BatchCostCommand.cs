using System.Diagnostics;
using System.Globalization;
using System.Text;
using Iris.Core.Inference;
using Iris.Core.Inference.Graphs;
using Microsoft.ML.OnnxRuntime;

namespace Iris.Bench.Batching;

/// <summary>
/// What a batch saves inside ONNX Runtime, without HTTP: CPU time and wall time per image of YOLOX-Nano and the CLIP
/// image tower at batch 1 (the exported graph) and batch 2, 4 and 8 (the graph batching runs). CPU time per image is the
/// steadier figure on a shared machine (other processes lengthen the wall clock, much less the work done); batch and
/// single runs alternate so that a change of load hits both.
/// </summary>
public static class BatchCostCommand
{
    private sealed record Model(string Name, string Path, string Input, string Output, long[] Item, int Images);

    public static async Task<int> RunAsync(string[] args)
    {
        var mirror = args is ["--mirror", var m, ..] ? m : SharedFolder.ModelsMirror;
        Model[] models =
        [
            new("yolox-nano", System.IO.Path.Combine(mirror, "yolox-nano", "yolox_nano.onnx"), "images", "output", [3, 416, 416], 48),
            new("clip-tiny (image tower)", System.IO.Path.Combine(mirror, "clip-tiny", "onnx", "vision_model.onnx"), "pixel_values", "image_embeds", [3, 128, 128], 960),
        ];
        var factory = new OnnxSessionFactory(new InferenceSettings());
        var md = new StringBuilder();
        md.AppendLine("| Model | Batch | CPU ms/image, batch | CPU ms/image, alone | CPU ratio | Wall ms/image, batch | Wall ms/image, alone | Wall ratio |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var model in models)
        {
            var bytes = await File.ReadAllBytesAsync(model.Path);
            var batchable = BatchDimension.IsSymbolic(bytes) ? bytes : BatchDimension.TryMakeSymbolic(bytes, out var reason)
                ?? throw new InvalidOperationException($"{model.Name}: {reason}");
            using var single = factory.Create(bytes);
            using var batched = factory.Create(batchable);
            Measure(single, model, 1, 4);
            Measure(batched, model, 8, 8);
            foreach (var n in new[] { 2, 4, 8 })
            {
                var (aloneCpu, aloneWall) = Measure(single, model, 1, model.Images);
                var (batchCpu, batchWall) = Measure(batched, model, n, model.Images);
                md.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {model.Name} | {n} | {batchCpu:F2} | {aloneCpu:F2} | {batchCpu / aloneCpu:F2} | {batchWall:F2} | {aloneWall:F2} | {batchWall / aloneWall:F2} |"));
            }
        }
        Console.WriteLine(md);
        return 0;
    }

    private static (double CpuMs, double WallMs) Measure(InferenceSession session, Model model, int batch, int images)
    {
        var size = (int)model.Item.Aggregate(1L, (a, b) => a * b);
        var random = new Random(batch);
        var data = new float[batch * size];
        for (var i = 0; i < data.Length; i++) data[i] = (float)random.NextDouble();
        using var value = OrtValue.CreateTensorValueFromMemory(data, [batch, .. model.Item]);
        using var runOptions = new RunOptions();
        using var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var started = Stopwatch.GetTimestamp();
        for (var done = 0; done < images; done += batch)
        {
            using var results = session.Run(runOptions, [model.Input], [value], [model.Output]);
        }
        var wall = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        process.Refresh();
        return ((process.TotalProcessorTime - cpu).TotalMilliseconds / images, wall / images);
    }
}
