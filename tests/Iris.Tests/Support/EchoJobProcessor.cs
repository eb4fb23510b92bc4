using System.Collections.Concurrent;
using System.Text.Json;
using Iris.Core.Jobs;

namespace Iris.Tests.Support;

/// <summary>
/// A processor whose behaviour the job's parameters script, to drive the job machinery through retries and failures
/// without paying for a model: <c>fail_times=N</c> fails the first N runs of a job (by its <c>key</c> parameter),
/// <c>permanent=true</c> fails as bad input does, <c>sleep_ms</c> holds the job. The result echoes the input's size.
/// </summary>
public sealed class EchoJobProcessor : IJobProcessor
{
    private readonly ConcurrentDictionary<string, int> _runs = new();

    public IReadOnlyCollection<string> Tasks { get; } = ["echo"];

    private int _running;
    private int _maxRunning;

    public int Runs(string key) => _runs.GetValueOrDefault(key);

    /// <summary>The most runs that were ever in progress at once.</summary>
    public int MaxConcurrentRuns => Volatile.Read(ref _maxRunning);

    public void Validate(IReadOnlyList<string> tasks, IReadOnlyDictionary<string, string> parameters)
    {
        if (parameters.TryGetValue("fail_times", out var f) && !int.TryParse(f, out _))
            throw new InvalidJobRequestException("fail_times must be a whole number.", "fail_times");
    }

    public async Task<JobOutput> ProcessAsync(JobInput input, CancellationToken cancellationToken)
    {
        var key = input.Parameters.GetValueOrDefault("key") ?? "";
        var run = _runs.AddOrUpdate(key, 1, (_, n) => n + 1);
        var running = Interlocked.Increment(ref _running);
        int seen;
        while ((seen = Volatile.Read(ref _maxRunning)) < running && Interlocked.CompareExchange(ref _maxRunning, running, seen) != seen) { }
        try
        {
            if (input.Parameters.TryGetValue("sleep_ms", out var sleep))
                await Task.Delay(int.Parse(sleep), cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _running);
        }
        if (input.Parameters.GetValueOrDefault("permanent") == "true")
            throw new PermanentJobFailureException("the input can never work");
        if (input.Parameters.TryGetValue("fail_times", out var failTimes) && run <= int.Parse(failTimes))
            throw new InvalidOperationException($"transient failure {run}");
        return new JobOutput(JsonSerializer.Serialize(new { echo = new { bytes = input.Image.Length, run } }), [new ModelVersion("echo", "1")]);
    }
}
