using Iris.Core.Imaging;
using Iris.Core.Tasks;
using Iris.Tests.Support;

namespace Iris.Tests.Analysis;

public class ImageAnalyzerTests
{
    private sealed record LabelParameters(string Label) : ITaskParameters;

    /// <summary>A task that records the pixels it was given and how many ran at once.</summary>
    private sealed class RecordingTask(string name, bool usesModel, Counter counter) : ImageTask<LabelParameters, string, string>
    {
        public override string Name => name;
        public override bool UsesModel => usesModel;
        public List<DecodedImage> Seen { get; } = [];

        public override LabelParameters Read(ParameterReader reader) => new(reader.String("label") ?? "none");

        public override Task<string> LoadAsync(LabelParameters parameters, CancellationToken cancellationToken) => Task.FromResult(name + "-model");

        public override async Task<string> RunAsync(string model, LabelParameters parameters, TaskInput input, CancellationToken cancellationToken)
        {
            lock (Seen) Seen.Add(input.Image);
            counter.Enter(usesModel);
            await Task.Delay(50);
            counter.Leave(usesModel);
            return parameters.Label;
        }

        public override string? ModelOf(string result) => usesModel ? name + "-model" : null;
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
            ParameterReader.From(new Dictionary<string, string?> { ["b_label"] = "bee" }));

        Assert.Equal(["c", "a", "b"], result.Tasks.Select(t => t.Name));
        Assert.Single(tasks.SelectMany(t => t.Seen).Distinct());
        Assert.Equal("bee", result.Tasks[2].Result);
        Assert.Equal("b-model", result.Tasks[2].Model);
        Assert.Null(result.Tasks[0].Model);
        Assert.Equal(1, counter.MaxModels); // model tasks one at a time …
        Assert.Equal(2, counter.MaxAll);    // … with the model-free task beside them
    }

    [Fact]
    public void Unknown_tasks_are_listed_with_the_valid_ones()
    {
        var analyzer = new ImageAnalyzer([new RecordingTask("detect", true, new Counter()), new RecordingTask("info", false, new Counter())],
            new ImageDecoder(ImageLimits.Default), 1);
        var error = Assert.Throws<UnknownTaskException>(() => analyzer.Resolve("detect,ocr"));
        Assert.Equal("Unknown task 'ocr' in tasks. Valid tasks: detect, info.", error.Message);
        Assert.Equal("tasks", error.Parameter);
        Assert.Throws<UnknownTaskException>(() => analyzer.Resolve(" , "));
    }

    [Fact]
    public async Task A_bad_parameter_fails_before_the_image_is_decoded()
    {
        var analyzer = new ImageAnalyzer([new StrictTask()], new ImageDecoder(ImageLimits.Default), 1);
        // Not an image at all: if decoding came first this would be an UnsupportedImageFormatException.
        var error = await Assert.ThrowsAsync<InvalidParameterException>(() =>
            analyzer.AnalyzeAsync("not an image"u8.ToArray(), analyzer.Resolve("strict"), ParameterReader.From(new Dictionary<string, string?> { ["strict_n"] = "x" })));
        Assert.Equal("strict_n", error.Parameter);
        Assert.Equal("strict_n must be a whole number between 1 and 10; got 'x'.", error.Message);
    }

    [Fact]
    public async Task A_bad_parameter_of_a_task_that_was_not_asked_for_is_still_refused()
    {
        var analyzer = new ImageAnalyzer([new RecordingTask("a", true, new Counter()), new StrictTask()], new ImageDecoder(ImageLimits.Default), 1);
        var error = await Assert.ThrowsAsync<InvalidParameterException>(() =>
            analyzer.AnalyzeAsync(File.ReadAllBytes(TestPaths.RealImage("dog.jpg")), analyzer.Resolve("a"),
                ParameterReader.From(new Dictionary<string, string?> { ["strict_n"] = "abc" })));
        Assert.Equal("strict_n", error.Parameter);
    }

    [Fact]
    public void A_prefixed_reader_names_the_parameter_as_it_was_sent()
    {
        var reader = ParameterReader.From(new Dictionary<string, string?> { ["detect_min_confidence"] = "2" }).WithPrefix("detect_");
        var error = Assert.Throws<InvalidParameterException>(() => reader.Float("min_confidence", 0.4f, 0f, 1f));
        Assert.Equal("detect_min_confidence must be between 0 and 1; got 2.", error.Message);
        Assert.Equal("detect_min_confidence", error.Parameter);
    }

    [Fact]
    public async Task A_batch_runs_the_task_once_over_the_images_that_decode_and_reports_the_others_in_their_place()
    {
        var task = new BatchingTask();
        var analyzer = new ImageAnalyzer([task], new ImageDecoder(ImageLimits.Default), 1);
        var dog = File.ReadAllBytes(TestPaths.RealImage("dog.jpg"));

        var runs = await analyzer.RunBatchAsync(task, new LabelParameters("x"), [dog, "not an image"u8.ToArray(), dog]);

        Assert.Equal(["x-0", null, "x-1"], runs.Select(r => r.Result));
        Assert.Null(runs[0].Error);
        Assert.IsAssignableFrom<ImageRejectedException>(runs[1].Error);
        Assert.Equal(1, task.Batches);
    }

    /// <summary>A task whose model takes several images in one run.</summary>
    private sealed class BatchingTask : ImageTask<LabelParameters, string, string>
    {
        public int Batches { get; private set; }
        public override string Name => "batching";
        public override LabelParameters Read(ParameterReader reader) => new(reader.String("label") ?? "none");
        public override Task<string> LoadAsync(LabelParameters parameters, CancellationToken cancellationToken) => Task.FromResult("model");
        public override Task<string> RunAsync(string model, LabelParameters parameters, TaskInput input, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("A batch runs in one call.");

        public override Task<IReadOnlyList<string>> RunBatchAsync(string model, LabelParameters parameters, IReadOnlyList<TaskInput> inputs, CancellationToken cancellationToken)
        {
            Batches++;
            return Task.FromResult<IReadOnlyList<string>>(inputs.Select((_, i) => $"{parameters.Label}-{i}").ToList());
        }

        public override string? ModelOf(string result) => null;
    }

    private sealed record CountParameters(int N) : ITaskParameters;

    private sealed class StrictTask : ImageTask<CountParameters, string, string>
    {
        public override string Name => "strict";
        public override bool UsesModel => false;
        public override CountParameters Read(ParameterReader reader) => new(reader.Int("n", 1, 1, 10));
        public override Task<string> LoadAsync(CountParameters parameters, CancellationToken cancellationToken) => Task.FromResult("");
        public override Task<string> RunAsync(string model, CountParameters parameters, TaskInput input, CancellationToken cancellationToken) => Task.FromResult("ran");
        public override string? ModelOf(string result) => null;
    }
}
