using System.Diagnostics;
using Iris.Core.Imaging;
using Iris.Core.Inference;

namespace Iris.Core.Tasks;

/// <summary>One task's part of an analysis: its typed result, the model that produced it, and how long it ran.</summary>
public sealed record TaskOutcome(string Name, object Result, string? Model, double Ms);

/// <param name="Width">The image's width in its file (not the size it was decoded at, when it was shrunk on load).</param>
public sealed record AnalysisResult(int Width, int Height, string Format, IReadOnlyList<TaskOutcome> Tasks, double PrepareMs, double DecodeMs);

/// <summary>The typed result of one task run on its own, and how long the decode took.</summary>
public readonly record struct TaskRun<TResult>(TResult Result, double DecodeMs);

/// <summary>One image of a batch: its typed result, or why it could not be decoded (the rest of the batch still runs).</summary>
/// <param name="RunMs">How long the task ran over the whole batch.</param>
public readonly record struct BatchRun<TResult>(TResult? Result, ImageRejectedException? Error, double DecodeMs, double RunMs) where TResult : class;

/// <summary>
/// The one pipeline behind every door: parameters are read before anything is loaded, models are loaded before the image
/// is decoded (a bad model costs no decode), the image is decoded once, and the tasks run on the same pixels. Within one
/// analysis, model tasks run at most <c>maxParallelModelTasks</c> at a time and the others beside them. The decode is as
/// small as every task of the run allows (<see cref="DecodeNeed"/>): one task that needs full resolution decodes it all.
/// </summary>
public sealed class ImageAnalyzer
{
    private readonly Dictionary<string, IImageTask> _tasks;
    private readonly ImageDecoder _decoder;
    private readonly int _maxParallelModelTasks;

    public ImageAnalyzer(IEnumerable<IImageTask> tasks, ImageDecoder decoder, int maxParallelModelTasks)
    {
        _tasks = tasks.ToDictionary(t => t.Name, StringComparer.OrdinalIgnoreCase);
        _decoder = decoder;
        _maxParallelModelTasks = Math.Max(1, maxParallelModelTasks);
        TaskNames = _tasks.Keys.Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>The tasks an analysis (and a job) can run, in name order.</summary>
    public IReadOnlyList<string> TaskNames { get; }

    /// <summary>The tasks named in a comma-separated list, in the order given, without repeats.</summary>
    public IReadOnlyList<IImageTask> Resolve(string names)
    {
        var list = TaskList.Parse(names);
        return list.Count == 0 ? throw new UnknownTaskException([names], TaskNames) : Resolve(list);
    }

    /// <summary>The tasks of an already parsed list; throws <see cref="UnknownTaskException"/> naming those that do not exist.</summary>
    public IReadOnlyList<IImageTask> Resolve(TaskList names)
    {
        var unknown = names.Where(n => !_tasks.ContainsKey(n)).ToList();
        if (unknown.Count > 0 || names.Count == 0)
            throw new UnknownTaskException(unknown.Count > 0 ? unknown : [names.ToString()], TaskNames);
        var tasks = new IImageTask[names.Count];
        for (var i = 0; i < tasks.Length; i++) tasks[i] = _tasks[names[i]];
        return tasks;
    }

    /// <summary>
    /// Reads the prefixed parameters of every task the analyzer knows, requested or not, so a bad value is refused even
    /// when its task is not run (<c>classify_top_k=abc</c> with <c>tasks=detect</c>); returns those of <paramref name="tasks"/>.
    /// </summary>
    public ITaskParameters[] ReadParameters(IReadOnlyList<IImageTask> tasks, ParameterReader reader)
    {
        var read = new Dictionary<IImageTask, ITaskParameters>(_tasks.Count);
        foreach (var task in _tasks.Values)
            read[task] = task.Read(reader.WithPrefix(task.ParameterPrefix));
        var parameters = new ITaskParameters[tasks.Count];
        for (var i = 0; i < parameters.Length; i++)
            parameters[i] = read.TryGetValue(tasks[i], out var p) ? p : tasks[i].Read(reader.WithPrefix(tasks[i].ParameterPrefix));
        return parameters;
    }

    public async Task<AnalysisResult> AnalyzeAsync(byte[] source, IReadOnlyList<IImageTask> tasks, ParameterReader reader, CancellationToken cancellationToken = default)
    {
        var parameters = ReadParameters(tasks, reader);
        using var use = ModelUse.Begin();
        var clock = Stopwatch.StartNew();
        var prepared = await Task.WhenAll(tasks.Select((t, i) => t.PrepareAsync(parameters[i], cancellationToken)));
        var prepareMs = clock.Elapsed.TotalMilliseconds;

        clock.Restart();
        var needs = new DecodeNeed[prepared.Length];
        for (var i = 0; i < needs.Length; i++) needs[i] = prepared[i].Need;
        var image = await _decoder.DecodeAsync(source, needs, cancellationToken);
        var decodeMs = clock.Elapsed.TotalMilliseconds;
        var input = new TaskInput(source, image);

        // Per request: concurrent requests are already bounded per model by Inference:MaxConcurrentRuns.
        using var modelGate = new SemaphoreSlim(_maxParallelModelTasks);
        var outcomes = await Task.WhenAll(tasks.Select((task, i) => RunAsync(task, prepared[i], input, modelGate, cancellationToken)));
        return new AnalysisResult(image.OriginalWidth, image.OriginalHeight, image.Format.Name(), outcomes, prepareMs, decodeMs);
    }

    /// <summary>One task on its own (the task's own route, CLI command or facade): load the model, decode, run.</summary>
    public async Task<TaskRun<TResult>> RunAsync<TParameters, TModel, TResult>(
        ImageTask<TParameters, TModel, TResult> task, TParameters parameters, byte[] source, CancellationToken cancellationToken = default)
        where TParameters : ITaskParameters where TResult : class
    {
        using var use = ModelUse.Begin();
        var model = await task.LoadAsync(parameters, cancellationToken);
        var started = Stopwatch.GetTimestamp();
        var image = await _decoder.DecodeAsync(source, [task.InputNeed(model, parameters)], cancellationToken);
        var decodeMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        return new TaskRun<TResult>(await task.RunAsync(model, parameters, new TaskInput(source, image), cancellationToken), decodeMs);
    }

    /// <summary>
    /// One task over several images (<c>iris describe</c> captions a batch per encoder run): load the model once, decode
    /// each image, run the task once over those that decoded. An image that is refused is reported in its place.
    /// </summary>
    public async Task<IReadOnlyList<BatchRun<TResult>>> RunBatchAsync<TParameters, TModel, TResult>(
        ImageTask<TParameters, TModel, TResult> task, TParameters parameters, IReadOnlyList<byte[]> sources, CancellationToken cancellationToken = default)
        where TParameters : ITaskParameters where TResult : class
    {
        using var use = ModelUse.Begin();
        var model = await task.LoadAsync(parameters, cancellationToken);
        DecodeNeed[] needs = [task.InputNeed(model, parameters)];
        var runs = new BatchRun<TResult>[sources.Count];
        var inputs = new List<TaskInput>(sources.Count);
        var positions = new List<int>(sources.Count);
        for (var i = 0; i < sources.Count; i++)
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                inputs.Add(new TaskInput(sources[i], await _decoder.DecodeAsync(sources[i], needs, cancellationToken)));
                positions.Add(i);
                runs[i] = new BatchRun<TResult>(null, null, Stopwatch.GetElapsedTime(started).TotalMilliseconds, 0);
            }
            catch (ImageRejectedException e)
            {
                runs[i] = new BatchRun<TResult>(null, e, 0, 0);
            }
        }
        if (inputs.Count == 0) return runs;
        var clock = Stopwatch.GetTimestamp();
        var results = await task.RunBatchAsync(model, parameters, inputs, cancellationToken);
        var runMs = Stopwatch.GetElapsedTime(clock).TotalMilliseconds;
        for (var k = 0; k < positions.Count; k++)
            runs[positions[k]] = runs[positions[k]] with { Result = results[k], RunMs = runMs };
        return runs;
    }

    private static async Task<TaskOutcome> RunAsync(
        IImageTask task, PreparedTask run, TaskInput input, SemaphoreSlim modelGate, CancellationToken cancellationToken)
    {
        if (task.UsesModel) await modelGate.WaitAsync(cancellationToken);
        try
        {
            var clock = Stopwatch.StartNew();
            // Off the caller's thread, so a CPU-bound task (info) overlaps with model inference.
            var result = await Task.Run(() => run.Run(input, cancellationToken), cancellationToken);
            return new TaskOutcome(task.Name, result.Value, result.Model, clock.Elapsed.TotalMilliseconds);
        }
        finally
        {
            if (task.UsesModel) modelGate.Release();
        }
    }
}
