using Iris.Configuration;
using Iris.Core.Inference;
using Iris.Core.Models;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Iris.Http;

/// <summary>Liveness (<c>/healthz</c>), readiness (<c>/readyz</c>) and a deep status document (<c>/health</c>).</summary>
public static class HealthApi
{
    public sealed record CheckDto(string Name, string Status, string? Detail);

    public sealed record HealthDto(string Status, string Version, double UptimeSeconds, IReadOnlyList<CheckDto> Checks, IReadOnlyList<ModelStatus> Models);

    private static readonly DateTimeOffset Started = DateTimeOffset.UtcNow;

    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        // Probes answer without a caller: orchestrators do not hold API keys.
        var group = app.MapGroup("").WithTags("Operate").AllowAnonymous();
        group.MapGet("/healthz", () => TypedResults.Ok(new { status = "alive" }))
            .WithName("Liveness").WithSummary("The process is up and serving HTTP");
        group.MapGet("/readyz", Ready)
            .WithName("Readiness").WithSummary("Enabled models are loaded and storage is writable; 503 otherwise");
        group.MapGet("/health", Health)
            .WithName("Health").WithSummary("Status of every dependency and model, for people and dashboards");
        return app;
    }

    private static Results<Ok<HealthDto>, JsonHttpResult<HealthDto>> Ready(IrisOptions options, ModelRuntime models, ModelStore store) =>
        Respond(Build(options, models, store));

    private static Results<Ok<HealthDto>, JsonHttpResult<HealthDto>> Health(IrisOptions options, ModelRuntime models, ModelStore store) =>
        Respond(Build(options, models, store));

    private static Results<Ok<HealthDto>, JsonHttpResult<HealthDto>> Respond(HealthDto health) =>
        health.Status == "ready" ? TypedResults.Ok(health) : TypedResults.Json(health, statusCode: StatusCodes.Status503ServiceUnavailable);

    private static HealthDto Build(IrisOptions options, ModelRuntime models, ModelStore store)
    {
        var checks = new List<CheckDto> { StorageCheck(store.CacheDirectory) };
        var statuses = new List<ModelStatus>();
        foreach (var name in options.Models.EnabledModels)
        {
            if (!models.Catalog.Contains(name))
            {
                checks.Add(new CheckDto($"model:{name}", "unhealthy", "not in the model catalog"));
                continue;
            }
            var status = models.Status(name);
            statuses.Add(status);
            // Lazily loaded models count as ready once their files are in place.
            var ready = status.State == ModelState.Ready
                || (!options.Models.LoadOnStartup && status.State == ModelState.NotLoaded && (status.Installed || options.Models.AutoPull));
            checks.Add(new CheckDto($"model:{name}", ready ? "healthy" : "unhealthy",
                ready ? null : status.Error ?? $"state is {status.State.ToString().ToLowerInvariant()}"));
        }
        var overall = checks.All(c => c.Status == "healthy") ? "ready" : "not_ready";
        var version = typeof(HealthApi).Assembly.GetName().Version?.ToString() ?? "0";
        return new HealthDto(overall, version, Math.Round((DateTimeOffset.UtcNow - Started).TotalSeconds, 1), checks, statuses);
    }

    private static CheckDto StorageCheck(string directory)
    {
        try
        {
            Directory.CreateDirectory(directory);
            var probe = Path.Combine(directory, $".write-probe-{Environment.ProcessId}");
            File.WriteAllText(probe, "ok");
            File.Delete(probe);
            return new CheckDto("storage:model-cache", "healthy", directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new CheckDto("storage:model-cache", "unhealthy", $"{directory} is not writable: {e.Message}");
        }
    }
}
