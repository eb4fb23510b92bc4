using System.Diagnostics;
using Iris.Core.Imaging;

namespace Iris.Core.Analysis;

public sealed record AnalysisResult(
    int Width, int Height, string Format, IReadOnlyList<string> Tasks, IReadOnlyDictionary<string, object> Sections,
    double PrepareMs, double DecodeMs, IReadOnlyDictionary<string, double> TaskMs);

/// <summary>
/// Runs several <see cref="IAnalysisTask"/>s on one image: prepares them all (models load in parallel), decodes the image
/// once, then runs the tasks: within one request, model tasks at most <c>maxParallelModelTasks</c> at a time, the others beside them.
/// </summary>
public sealed class ImageAnalyzer
{
    private readonly Dictionary<string, IAnalysisTask> _tasks;
    private readonly ImageDecoder _decoder;
    private readonly int _maxParallelModelTasks;

    public ImageAnalyzer(IEnumerable<IAnalysisTask> tasks, ImageDecoder decoder, int maxParallelModelTasks)
    {
        _tasks = tasks.ToDictionary(t => t.Name, StringComparer.OrdinalIgnoreCase);
        _decoder = decoder;
        _maxParallelModelTasks = Math.Max(1, maxParallelModelTasks);
    }

    public IReadOnlyList<string> TaskNames => _tasks.Keys.Order(StringComparer.Ordinal).ToList();

    /// <summary>The tasks named in a comma-separated list, in the order given, without repeats.</summary>
    public IReadOnlyList<IAnalysisTask> Resolve(string names)
    {
        var requested = names.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(n => n.ToLowerInvariant()).Distinct().ToList();
        var unknown = requested.Where(n => !_tasks.ContainsKey(n)).ToList();
        if (unknown.Count > 0 || requested.Count == 0)
            throw new UnknownAnalysisTaskException(unknown.Count > 0 ? unknown : [names], TaskNames);
        return requested.Select(n => _tasks[n]).ToList();
    }

    public async Task<AnalysisResult> AnalyzeAsync(byte[] source, IReadOnlyList<IAnalysisTask> tasks, AnalysisParameters parameters, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        var prepared = await Task.WhenAll(tasks.Select(t => t.PrepareAsync(parameters, cancellationToken)));
        var prepareMs = clock.Elapsed.TotalMilliseconds;

        clock.Restart();
        var image = _decoder.Decode(source, cancellationToken);
        var decodeMs = clock.Elapsed.TotalMilliseconds;
        var input = new AnalysisInput(source, image);

        // Per request: concurrent requests are already bounded per model by Inference:MaxConcurrentRuns.
        using var modelGate = new SemaphoreSlim(_maxParallelModelTasks);
        var runs = tasks.Select((task, i) => RunAsync(task, prepared[i], input, modelGate, cancellationToken)).ToList();
        var results = await Task.WhenAll(runs);
        return new AnalysisResult(
            image.Width, image.Height, image.Format.Name(), tasks.Select(t => t.Name).ToList(),
            tasks.Select((t, i) => (t.Name, results[i].Section)).ToDictionary(p => p.Name, p => p.Section),
            prepareMs, decodeMs,
            tasks.Select((t, i) => (t.Name, results[i].Ms)).ToDictionary(p => p.Name, p => p.Ms));
    }

    private static async Task<(object Section, double Ms)> RunAsync(
        IAnalysisTask task, PreparedAnalysis run, AnalysisInput input, SemaphoreSlim modelGate, CancellationToken cancellationToken)
    {
        if (task.UsesModel) await modelGate.WaitAsync(cancellationToken);
        try
        {
            var clock = Stopwatch.StartNew();
            // Off the caller's thread, so a CPU-bound task (info) overlaps with model inference.
            var section = await Task.Run(() => run(input, cancellationToken), cancellationToken);
            return (section, clock.Elapsed.TotalMilliseconds);
        }
        finally
        {
            if (task.UsesModel) modelGate.Release();
        }
    }
}
