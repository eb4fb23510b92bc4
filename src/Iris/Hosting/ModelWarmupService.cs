using Iris.Configuration;
using Iris.Core.Inference;

namespace Iris.Hosting;

/// <summary>
/// Loads and warms the preloaded models (Models:Preload, <see cref="ServedModels"/>) in the background after start-up, so
/// HTTP is up (and liveness green) at once while readiness waits for them.
/// </summary>
public sealed class ModelWarmupService(IrisOptions options, ModelRuntime models) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Models.LoadOnStartup) return;
        await Task.WhenAll(ServedModels.Of(options).Select(name => models.WarmUpAsync(name, stoppingToken, reason: "preload")));
    }
}
