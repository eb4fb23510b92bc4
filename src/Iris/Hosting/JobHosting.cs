using Iris.Core.Jobs;
using Iris.Core.Jobs.Kafka;
using Iris.Jobs;

namespace Iris.Hosting;

/// <summary>Creates or migrates the job store and queue before the server answers or workers start.</summary>
public sealed class JobInfrastructureStartup(IJobStore store, IJobQueue queue, ILogger<JobInfrastructureStartup> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.InitializeAsync(cancellationToken);
        await queue.InitializeAsync(cancellationToken);
        logger.LogInformation("Job store {Store} and queue {Queue} ready", store.GetType().Name, queue.GetType().Name);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>
/// Runs a <see cref="JobWorker"/> for the life of the host. On shutdown the worker stops taking jobs and lets those in
/// flight finish for Jobs:ShutdownGraceSeconds, then hands the rest back to the queue.
/// </summary>
public sealed class JobWorkerService(JobWorker worker, int concurrency) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => worker.RunAsync(concurrency, stoppingToken);
}

/// <summary>
/// Runs a job sweep now and then in every process that has workers; each sweep is safe to run in several processes at
/// once. One subclass per sweep: the host keeps one hosted service per type.
/// </summary>
public abstract class JobSweepService(string name, TimeSpan interval, ILogger logger) : BackgroundService
{
    protected abstract Task SweepAsync(CancellationToken cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            do
            {
                try
                {
                    await SweepAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning("Job {Sweep} sweep failed: {Error}", name, e.Message);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) { }
    }
}

/// <summary>Re-enqueues jobs the queue may have lost (<see cref="JobRecovery"/>).</summary>
public sealed class JobRecoveryService(JobRecovery recovery, TimeSpan interval, ILogger<JobRecoveryService> logger)
    : JobSweepService("recovery", interval, logger)
{
    protected override Task SweepAsync(CancellationToken cancellationToken) => recovery.SweepAsync(cancellationToken);
}

/// <summary>Deletes finished jobs past Jobs:Retention (<see cref="JobRetention"/>).</summary>
public sealed class JobRetentionService(JobRetention retention, TimeSpan interval, ILogger<JobRetentionService> logger)
    : JobSweepService("retention", interval, logger)
{
    protected override Task SweepAsync(CancellationToken cancellationToken) => retention.SweepAsync(cancellationToken);
}

/// <summary>Submits the requests of Kafka clients as jobs (<see cref="KafkaRequestIntake"/>) for the life of the host.</summary>
public sealed class KafkaRequestIntakeService(KafkaRequestIntake intake) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => intake.RunAsync(stoppingToken);
}

/// <summary>Sends the webhooks of finished jobs (<see cref="JobWebhookDispatcher"/>) for the life of the host.</summary>
public sealed class JobWebhookDispatcherService(JobWebhookDispatcher dispatcher) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => dispatcher.RunAsync(stoppingToken);
}
