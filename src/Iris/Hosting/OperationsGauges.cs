using System.Diagnostics;
using Iris.Configuration;
using Iris.Core.Jobs;
using Iris.Core.Telemetry;

namespace Iris.Hosting;

/// <summary>
/// Feeds the operations gauges (<see cref="IrisMetrics.JobQueueDepth"/>, the webhook outbox, data directory space)
/// while the server runs. A scrape reads the last snapshot; one older than <c>Metrics:GaugeCacheSeconds</c> is
/// refreshed first (one refresh at a time, waited for at most two seconds once per scrape), so however often Prometheus scrapes,
/// the queue and the database answer a few cheap queries per interval at most.
/// </summary>
public sealed class OperationsGauges(IJobQueue queue, SqlJobStore store, IrisOptions options, TimeProvider clock, ILogger<OperationsGauges> logger) : IHostedService, IDisposable
{
    private static readonly TimeSpan RefreshWait = TimeSpan.FromSeconds(2);

    private readonly Lock _lock = new();
    private readonly TimeSpan _cacheFor = TimeSpan.FromSeconds(options.Metrics.GaugeCacheSeconds);
    private OperationsSnapshot _snapshot = OperationsSnapshot.Empty;
    private long _takenAt = long.MinValue;
    private Task? _refresh;
    private IDisposable? _registration;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _registration = IrisMetrics.Observe(Current);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _registration?.Dispose();
        return Task.CompletedTask;
    }

    public void Dispose() => _registration?.Dispose();

    /// <summary>The latest snapshot, refreshed first when it is older than the cache period.</summary>
    public OperationsSnapshot Current()
    {
        Task? started = null;
        lock (_lock)
        {
            if (_takenAt != long.MinValue && Stopwatch.GetElapsedTime(_takenAt) < _cacheFor) return _snapshot;
            if (_refresh is null) started = _refresh = Task.Run(RefreshAsync);
        }
        // Only the caller that started the refresh waits: a scrape reads several gauges, and a slow database must
        // cost it two seconds at most, not two per gauge.
        started?.Wait(RefreshWait);
        lock (_lock) return _snapshot;
    }

    private async Task RefreshAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            JobBacklog? backlog = null;
            try { backlog = await store.BacklogAsync(timeout.Token); }
            catch (Exception e) when (e is not OutOfMemoryException) { logger.LogDebug(e, "The job store did not answer the backlog gauges"); }

            var queues = new List<JobQueueLevel>();
            var name = QueueName(options.Jobs);
            var backend = options.Jobs.Queue.ToLowerInvariant();
            JobQueueLevel? level = null;
            if (queue is IJobQueueProbe probe)
                try { level = await probe.MeasureAsync(timeout.Token); }
                catch (Exception e) when (e is not OutOfMemoryException) { logger.LogDebug(e, "The job queue did not answer the depth gauges"); }
            // Kafka (whose lag lives in the consumer group, not in any broker query Iris makes) and RabbitMQ's oldest
            // age fall back to the job store: the jobs it holds as queued are the ones no worker has started yet.
            if (level is null && backlog is not null)
                level = new JobQueueLevel(name, backend, backlog.QueuedJobs, backlog.OldestQueuedSince);
            else if (level is { OldestWaitingSince: null, Depth: > 0 } && backlog is not null)
                level = level with { OldestWaitingSince = backlog.OldestQueuedSince };
            if (level is not null) queues.Add(level);

            var snapshot = new OperationsSnapshot(clock.GetUtcNow(), queues, backlog, Directories());
            lock (_lock)
            {
                _snapshot = snapshot;
                _takenAt = Stopwatch.GetTimestamp();
            }
        }
        finally
        {
            lock (_lock) _refresh = null;
        }
    }

    private static string QueueName(JobsOptions jobs) => jobs.Queue.ToLowerInvariant() switch
    {
        "redis" => jobs.Redis.Stream,
        "rabbitmq" => jobs.RabbitMq.Queue,
        "kafka" => jobs.Kafka.RequestTopic,
        _ => "default",
    };

    private List<DataDirectorySpace> Directories()
    {
        var spaces = new List<DataDirectorySpace>();
        foreach (var (store, _, directory) in StorageStartupCheck.LocalDirectories(options).Prepend(("models", "Models:CacheDirectory", options.Models.CacheDirectory)))
        {
            try
            {
                // A directory is created on first use: until then, measure the file system it will be created on.
                var existing = new DirectoryInfo(Path.GetFullPath(directory));
                while (!existing.Exists && existing.Parent is { } parent) existing = parent;
                var drive = new DriveInfo(existing.FullName);
                spaces.Add(new DataDirectorySpace(store, drive.AvailableFreeSpace, drive.TotalSize));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
            {
                logger.LogDebug(e, "No file system space for {Store} ({Directory})", store, directory);
            }
        }
        return spaces;
    }
}
