using Iris.Core.Analysis;
using Iris.Core.Imaging;
using Iris.Tests.Support;

namespace Iris.Tests.Analysis;

public class ImageAnalyzerTests
{
    /// <summary>A task that records the pixels it was given and how many ran at once.</summary>
    private sealed class RecordingTask(string name, bool usesModel, Counter counter) : IAnalysisTask
    {
        public string Name => name;
        public bool UsesModel => usesModel;
        public void Validate(AnalysisParameters parameters) { }
        public List<DecodedImage> Seen { get; } = [];

        public Task<PreparedAnalysis> PrepareAsync(AnalysisParameters parameters, CancellationToken cancellationToken)
        {
            var label = parameters.String($"{name}_label") ?? "none";
            PreparedAnalysis run = async (input, _) =>
            {
                lock (Seen) Seen.Add(input.Image);
                counter.Enter(usesModel);
                await Task.Delay(50);
                counter.Leave(usesModel);
                return new { label };
            };
            return Task.FromResult(run);
        }
    }

    private sealed class Counter
    {
        private int _models, _all;
        public int MaxModels { get; private set; }
        public int MaxAll { get; private set; }
        public void Enter(bool model)
        {
            lock (this)
            {
                if (model) MaxModels = Math.Max(MaxModels, ++_models);
                MaxAll = Math.Max(MaxAll, ++_all);
            }
        }
        public void Leave(bool model)
        {
            lock (this) { if (model) _models--; _all--; }
        }
    }

    [Fact]
    public async Task A_registered_task_is_found_by_name_and_every_task_reads_the_same_decoded_image()
    {
        var counter = new Counter();
        var tasks = new[] { new RecordingTask("a", true, counter), new RecordingTask("b", true, counter), new RecordingTask("c", false, counter) };
        var analyzer = new ImageAnalyzer(tasks, new ImageDecoder(ImageLimits.Default), maxParallelModelTasks: 1);

        var result = await analyzer.AnalyzeAsync(File.ReadAllBytes(TestPaths.RealImage("dog.jpg")), analyzer.Resolve("c, A ,a,b"),
            AnalysisParameters.From(new Dictionary<string, string?> { ["b_label"] = "bee" }));

        Assert.Equal(["c", "a", "b"], result.Tasks);
        Assert.Single(tasks.SelectMany(t => t.Seen).Distinct());
        Assert.Equal("bee", result.Sections["b"].GetType().GetProperty("label")!.GetValue(result.Sections["b"]));
        Assert.Equal(1, counter.MaxModels); // model tasks one at a time …
        Assert.Equal(2, counter.MaxAll);    // … with the model-free task beside them
    }

    [Fact]
    public void Unknown_tasks_are_listed_with_the_valid_ones()
    {
        var analyzer = new ImageAnalyzer([new RecordingTask("detect", true, new Counter()), new RecordingTask("info", false, new Counter())],
            new ImageDecoder(ImageLimits.Default), 1);
        var error = Assert.Throws<UnknownAnalysisTaskException>(() => analyzer.Resolve("detect,ocr"));
        Assert.Equal("Unknown task 'ocr' in tasks. Valid tasks: detect, info.", error.Message);
        Assert.Equal("tasks", error.Parameter);
        Assert.Throws<UnknownAnalysisTaskException>(() => analyzer.Resolve(" , "));
    }

    [Fact]
    public async Task A_bad_parameter_fails_before_the_image_is_decoded()
    {
        var analyzer = new ImageAnalyzer([new ThrowingTask()], new ImageDecoder(ImageLimits.Default), 1);
        // Not an image at all: if decoding came first this would be an UnsupportedImageFormatException.
        await Assert.ThrowsAsync<InvalidAnalysisParameterException>(() =>
            analyzer.AnalyzeAsync("not an image"u8.ToArray(), analyzer.Resolve("strict"), AnalysisParameters.From(new Dictionary<string, string?> { ["n"] = "x" })));
    }

    private sealed class ThrowingTask : IAnalysisTask
    {
        public string Name => "strict";
        public bool UsesModel => false;
        public void Validate(AnalysisParameters parameters) { }
        public Task<PreparedAnalysis> PrepareAsync(AnalysisParameters parameters, CancellationToken cancellationToken)
        {
            parameters.Int("n", 1, 1, 10);
            return Task.FromResult<PreparedAnalysis>((_, _) => Task.FromResult<object>(1));
        }
    }
}
