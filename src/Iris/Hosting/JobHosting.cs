using Iris.Core.Jobs;

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

/// <summary>Runs <see cref="JobRecovery"/> now and then in every process that has workers.</summary>
public sealed class JobRecoveryService(JobRecovery recovery, TimeSpan interval, ILogger<JobRecoveryService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            do
            {
                try
                {
                    await recovery.SweepAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning("Job recovery sweep failed: {Error}", e.Message);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) { }
    }
}
