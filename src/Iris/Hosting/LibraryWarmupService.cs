using Iris.Configuration;
using Iris.Core.Inference;
using Iris.Core.Library;

namespace Iris.Hosting;

/// <summary>
/// Loads the embedding model of the library's active space in the background after start-up, so the first search
/// does not wait for it; the model runtime keeps it loaded from then on. An empty library loads nothing.
/// </summary>
public sealed class LibraryWarmupService(IrisOptions options, IServiceProvider services, ModelRuntime models, ILogger<LibraryWarmupService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Models.LoadOnStartup) return;
        try
        {
            var spaces = await services.GetRequiredService<ImageLibrary>().GetSpacesAsync(stoppingToken);
            if (spaces.Active is { } active) await models.WarmUpAsync(active.Model, stoppingToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning("The library's search model was not loaded at start-up: {Error}", e.Message);
        }
    }
}
