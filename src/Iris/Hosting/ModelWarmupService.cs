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
        var preload = ServedModels.Of(options);
        if (models.Residency.MemoryBudgetBytes is null)
        {
            await Task.WhenAll(preload.Select(name => models.WarmUpAsync(name, stoppingToken, reason: "preload")));
            return;
        }
        // Under a budget, one at a time: each load's RSS growth is then its own, the memory the runtime budgets for the
        // model (ModelRuntime.EstimateMemory) instead of the files-based guess. Readiness comes later for it (bench/README.md).
        foreach (var name in preload)
            await models.WarmUpAsync(name, stoppingToken, reason: "preload");
    }
}
