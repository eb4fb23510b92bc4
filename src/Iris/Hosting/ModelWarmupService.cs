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
        // One at a time: each load's RSS growth is then its own, the memory the runtime reports and budgets for the model
        // (ModelRuntime.EstimateMemory). On 2 cores parallel loads only shared the same cores (bench/README.md, residency).
        foreach (var name in ServedModels.Of(options))
            await models.WarmUpAsync(name, stoppingToken, reason: "preload");
    }
}
