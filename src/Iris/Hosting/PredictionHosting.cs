using Iris.Core.Predictions;

namespace Iris.Hosting;

/// <summary>Creates the prediction tables before the server answers or archivers start.</summary>
public sealed class PredictionStoreStartup(IPredictionStore store) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => store.InitializeAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>
/// Completes saved predictions (<see cref="PredictionHistory.RunArchiverAsync"/>) for the life of the host, where job
/// workers run: an API-only node records them in the outbox and a worker node archives them.
/// </summary>
public sealed class PredictionArchiverService(PredictionHistory history) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => history.RunArchiverAsync(stoppingToken);
}
