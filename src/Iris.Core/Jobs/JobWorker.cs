using System.Diagnostics;
using Iris.Core.Imaging;
using Iris.Core.Models;
using Iris.Core.Telemetry;
using Microsoft.Extensions.Logging;

namespace Iris.Core.Jobs;

/// <summary>
/// Takes deliveries from the queue and runs them, <c>concurrency</c> at a time. The store decides who works on a job
/// (<see cref="IJobStore.TryStartAsync"/>) and accepts one result per job, so a redelivered or duplicated message never
/// runs a finished job again nor writes a second result. A delivery is acknowledged only after the store has recorded
/// the outcome: a worker killed at any point leaves a delivery that comes back once its lease expires.
/// </summary>
public sealed class JobWorker(
    IJobStore store, IJobQueue queue, IJobBlobStore blobs, IJobProcessor processor, JobSettings settings,
    Func<Job, Task>? onFinished = null, ILogger<JobWorker>? logger = null, TimeProvider? clock = null)
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    private readonly Dictionary<string, SemaphoreSlim> _taskLimits = settings.TaskConcurrency
        .ToDictionary(p => p.Key, p => new SemaphoreSlim(p.Value, p.Value), StringComparer.OrdinalIgnoreCase);

    public string Id { get; } = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>Runs until <paramref name="stopping"/> fires, then lets in-flight jobs finish for up to the shutdown grace.</summary>
    public async Task RunAsync(int concurrency, CancellationToken stopping)
    {
        using var abandon = new CancellationTokenSource();
        await using var _ = stopping.Register(() => abandon.CancelAfter(settings.ShutdownGrace));
        logger?.LogInformation("Worker {Worker} started with {Concurrency} slot(s)", Id, concurrency);
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(() => LoopAsync(stopping, abandon.Token), CancellationToken.None)));
        logger?.LogInformation("Worker {Worker} stopped", Id);
    }

    private async Task LoopAsync(CancellationToken stopping, CancellationToken abandon)
    {
        while (!stopping.IsCancellationRequested)
        {
            JobDelivery? delivery;
            try
            {
                delivery = await queue.ReceiveAsync(TimeSpan.FromSeconds(1), stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // The queue is unreachable (broker restart, network): keep trying rather than dying.
                logger?.LogWarning("Receiving from the job queue failed: {Error}", e.Message);
                await DelayAsync(TimeSpan.FromSeconds(1), stopping);
                continue;
            }
            if (delivery is null) continue;
            try
            {
                await HandleAsync(delivery, abandon);
            }
            catch (Exception e)
            {
                // Bookkeeping failed (store down): the delivery is not acked, so its lease expiry redelivers it.
                logger?.LogError(e, "Job {JobId}: could not record the outcome; it will be redelivered", delivery.JobId);
                await DelayAsync(TimeSpan.FromSeconds(1), stopping);
            }
        }
    }

    /// <summary>Processes one delivery to the end; exposed for tests that drive a worker step by step.</summary>
    public async Task HandleAsync(JobDelivery delivery, CancellationToken abandon)
    {
        // A root span per delivery: the worker runs outside any request, so model runs and decodes nest under it.
        using var activity = IrisTracing.Source.StartActivity("job.process", ActivityKind.Consumer);
        activity?.SetTag("iris.job_id", delivery.JobId);
        var none = CancellationToken.None;
        var job = await store.TryStartAsync(delivery.JobId, Id, settings.Lease, settings.MaxAttempts, none);
        if (job is null)
        {
            var current = await store.GetAsync(delivery.JobId, none);
            if (current is { Status: JobStatus.Processing })
                // Held by a worker whose heartbeat is still fresh. Keep this delivery, checked again a lease later,
                // so the job is not lost should that worker be dying right now.
                await queue.ReleaseAsync(delivery, settings.Lease, none);
            else
                // Finished, canceled or unknown: a duplicate delivery, nothing to do.
                await queue.AckAsync(delivery, none);
            return;
        }
        if (job.Status == JobStatus.Failed)
        {
            // The claim found every attempt used by workers that died in the job: dead-lettered, never run again.
            IrisMetrics.JobsFinished.Add(1, new KeyValuePair<string, object?>("status", "failed"));
            logger?.LogError("Job {JobId} dead-lettered: {Error}", job.Id, job.Error);
            await queue.AckAsync(delivery, none);
            await NotifyAsync(job.Id);
            return;
        }

        using var lost = CancellationTokenSource.CreateLinkedTokenSource(abandon);
        var heartbeat = HeartbeatAsync(job.Id, delivery, lost);
        var clock = Stopwatch.StartNew();
        try
        {
            var limits = await AcquireTaskLimitsAsync(job.Tasks, lost.Token);
            try
            {
                var image = await blobs.GetAsync(job.InputRef, lost.Token)
                    ?? throw new PermanentJobFailureException($"The job's input image ({job.InputRef}) is no longer stored.");
                var output = await processor.ProcessAsync(new JobInput(image, job.Tasks, job.Parameters, job.Owner), lost.Token);
                await StopAsync(lost, heartbeat);
                if (await store.CompleteAsync(job.Id, Id, output.Result, output.GeneratedBy, none))
                {
                    IrisMetrics.JobsFinished.Add(1, new KeyValuePair<string, object?>("status", "done"));
                    logger?.LogInformation("Job {JobId} done by {Worker} in {ElapsedMs:F0} ms (attempt {Attempt})", job.Id, Id, clock.Elapsed.TotalMilliseconds, job.Attempts);
                    // A done job is never run again, so its input is no longer needed (failed and canceled jobs keep theirs for a retry).
                    await blobs.DeleteAsync(job.InputRef, none);
                }
                else
                    logger?.LogWarning("Job {JobId}: another worker took it over; this result is dropped", job.Id);
                await queue.AckAsync(delivery, none);
                await NotifyAsync(job.Id);
            }
            finally
            {
                foreach (var limit in limits) limit.Release();
            }
        }
        catch (OperationCanceledException) when (lost.IsCancellationRequested)
        {
            await StopAsync(lost, heartbeat);
            if (abandon.IsCancellationRequested)
            {
                // Shutting down: hand the job back without counting the attempt, so another worker starts it at once.
                await store.RequeueAsync(job.Id, Id, job.Error, countAttempt: false, none);
                await queue.ReleaseAsync(delivery, TimeSpan.Zero, none);
                logger?.LogInformation("Job {JobId} returned to the queue at shutdown", job.Id);
            }
            else
            {
                // The heartbeat found the job taken over; the other worker's delivery owns it now.
                await queue.AckAsync(delivery, none);
            }
        }
        catch (Exception e)
        {
            await StopAsync(lost, heartbeat);
            var error = Describe(e);
            if (IsPermanent(e) || job.Attempts >= settings.MaxAttempts)
            {
                if (await store.FailAsync(job.Id, Id, error, none))
                {
                    IrisMetrics.JobsFinished.Add(1, new KeyValuePair<string, object?>("status", "failed"));
                    logger?.LogWarning("Job {JobId} failed after {Attempts} attempt(s): {Error}", job.Id, job.Attempts, error);
                }
                await queue.AckAsync(delivery, none);
                await NotifyAsync(job.Id);
            }
            else
            {
                var delay = settings.RetryDelay(job.Attempts);
                await store.RequeueAsync(job.Id, Id, error, countAttempt: true, none);
                await queue.ReleaseAsync(delivery, delay, none);
                logger?.LogWarning("Job {JobId} attempt {Attempt} failed, retrying in {DelayMs} ms: {Error}", job.Id, job.Attempts, delay.TotalMilliseconds, error);
            }
        }
    }

    /// <summary>Input or requests that fail the same way every time: retrying them only wastes the backoff.</summary>
    public static bool IsPermanent(Exception e) => e is PermanentJobFailureException or ImageRejectedException
        or InvalidJobRequestException or Tasks.InvalidParameterException or ModelNotFoundException or ModelTaskMismatchException;

    private static string Describe(Exception e) => e is AggregateException { InnerExceptions.Count: 1 } a ? Describe(a.InnerExceptions[0]) : e.Message;

    private async Task HeartbeatAsync(string jobId, JobDelivery delivery, CancellationTokenSource lost)
    {
        var interval = settings.Lease / 3;
        try
        {
            while (!lost.IsCancellationRequested)
            {
                await Task.Delay(interval, _clock, lost.Token);
                if (!await store.HeartbeatAsync(jobId, Id, lost.Token))
                {
                    logger?.LogWarning("Job {JobId}: lost to another worker (heartbeat too late)", jobId);
                    await lost.CancelAsync();
                    return;
                }
                await queue.RenewAsync(delivery, lost.Token);
            }
        }
        catch (OperationCanceledException) { }
        catch (Exception e)
        {
            // A missed heartbeat is survivable: the lease is three intervals long.
            logger?.LogWarning("Job {JobId}: heartbeat failed: {Error}", jobId, e.Message);
        }
    }

    private static async Task StopAsync(CancellationTokenSource lost, Task heartbeat)
    {
        if (!lost.IsCancellationRequested) await lost.CancelAsync();
        await heartbeat;
    }

    private async Task<List<SemaphoreSlim>> AcquireTaskLimitsAsync(IReadOnlyList<string> tasks, CancellationToken cancellationToken)
    {
        // A fixed order across all workers prevents two multi-task jobs from deadlocking on each other's limits.
        var held = new List<SemaphoreSlim>();
        try
        {
            foreach (var task in tasks.Order(StringComparer.OrdinalIgnoreCase))
                if (_taskLimits.TryGetValue(task, out var limit))
                {
                    await limit.WaitAsync(cancellationToken);
                    held.Add(limit);
                }
            return held;
        }
        catch
        {
            foreach (var limit in held) limit.Release();
            throw;
        }
    }

    private async Task NotifyAsync(string jobId)
    {
        if (onFinished is null) return;
        var job = await store.GetAsync(jobId, CancellationToken.None);
        if (job is not null) await onFinished(job);
    }

    private async Task DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        try { await Task.Delay(delay, _clock, cancellationToken); } catch (OperationCanceledException) { }
    }
}
