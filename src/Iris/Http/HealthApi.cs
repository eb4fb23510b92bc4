using Iris.Configuration;
using Iris.Hosting;
using Iris.Core.Imaging;
using Iris.Core.Inference;
using Iris.Core.Models;
using Iris.Core.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Iris.Http;

/// <summary>Liveness (<c>/healthz</c>), readiness (<c>/readyz</c>) and a deep status document (<c>/health</c>).</summary>
public static class HealthApi
{
    public sealed record CheckDto(string Name, string Status, string? Detail);

    public sealed record HealthDto(string Status, string Version, double UptimeSeconds, IReadOnlyList<CheckDto> Checks, IReadOnlyList<ModelStatus> Models,
        ResidencyDto Residency);

    /// <summary>
    /// Models:Preload, IdleUnloadAfter (seconds; null: never) and MemoryBudget (bytes; null: none), and the estimated
    /// memory of the models loaded now.
    /// </summary>
    public sealed record ResidencyDto(IReadOnlyList<string> Preload, double? IdleUnloadAfterSeconds, long? MemoryBudgetBytes, long ResidentBytes);

    private static readonly DateTimeOffset Started = DateTimeOffset.UtcNow;

    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        // Probes answer without a caller: orchestrators do not hold API keys.
        var group = app.MapGroup("").WithTags("Operate").AllowAnonymous();
        group.MapGet("/healthz", () => TypedResults.Ok(new { status = "alive" }))
            .WithName("Liveness").WithSummary("The process is up and serving HTTP");
        group.MapGet("/readyz", Ready)
            .WithName("Readiness").WithSummary("Every preloaded model (Models:Preload; auto = each task's default model) is loaded (or was, and was unloaded for idleness or the memory budget) and storage is writable (and the S3 bucket answers, with Storage:Provider=s3); 503 otherwise");
        group.MapGet("/health", Health)
            .WithName("Health").WithSummary("Status of every dependency and model, for people and dashboards");
        return app;
    }

    /// <summary>The readiness answer; <c>/health/ready</c> (the image processing facade) maps this same handler.</summary>
    internal static async Task<Results<Ok<HealthDto>, JsonHttpResult<HealthDto>>> Ready(IrisOptions options, ModelRuntime models, ModelStore store, HttpContext context) =>
        Respond(await BuildAsync(options, models, store, context));

    private static async Task<Results<Ok<HealthDto>, JsonHttpResult<HealthDto>>> Health(IrisOptions options, ModelRuntime models, ModelStore store, HttpContext context) =>
        Respond(await BuildAsync(options, models, store, context));

    private static Results<Ok<HealthDto>, JsonHttpResult<HealthDto>> Respond(HealthDto health) =>
        health.Status == "ready" ? TypedResults.Ok(health) : TypedResults.Json(health, statusCode: StatusCodes.Status503ServiceUnavailable);

    private static async Task<HealthDto> BuildAsync(IrisOptions options, ModelRuntime models, ModelStore store, HttpContext context)
    {
        var checks = new List<CheckDto> { StorageCheck("storage:model-cache", store.CacheDirectory, "Models:CacheDirectory") };
        // A full or read-only data disk turns uploads and job submissions into 507s: take the node out of rotation.
        foreach (var (name, option, directory) in StorageStartupCheck.LocalDirectories(options))
            checks.Add(StorageCheck($"storage:{name}", directory, option));
        if (context.RequestServices.GetService<S3ObjectStore>() is { } bucket)
            checks.Add(await S3CheckAsync(bucket, context.RequestAborted));
        checks.Add(InferenceCheck(context.RequestServices.GetRequiredService<OnnxSessionFactory>().Settings,
            context.RequestServices.GetRequiredService<ImageRequestAdmission>()));
        checks.Add(DecodeCheck(context.RequestServices.GetRequiredService<ImageDecoder>()));
        var statuses = new List<ModelStatus>();
        foreach (var name in ServedModels.Of(options))
        {
            if (!models.Catalog.Contains(name))
            {
                checks.Add(new CheckDto($"model:{name}", "unhealthy", "not in the model catalog"));
                continue;
            }
            var status = models.Status(name);
            statuses.Add(status);
            // Lazily loaded models count as ready once their files are in place; an unloaded one loads again on its next request.
            var ready = status.State is ModelState.Ready or ModelState.Unloaded
                || (!options.Models.LoadOnStartup && status.State == ModelState.NotLoaded && (status.Installed || options.Models.AutoPull));
            checks.Add(new CheckDto($"model:{name}", ready ? "healthy" : "unhealthy",
                ready ? null : status.Error ?? $"state is {status.State.ToString().ToLowerInvariant()}"));
        }
        var overall = checks.All(c => c.Status == "healthy") ? "ready" : "not_ready";
        var version = typeof(HealthApi).Assembly.GetName().Version?.ToString() ?? "0";
        var residency = new ResidencyDto(ServedModels.Of(options), models.Residency.IdleUnloadAfter?.TotalSeconds, models.Residency.MemoryBudgetBytes, models.ResidentBytes);
        return new HealthDto(overall, version, Math.Round((DateTimeOffset.UtcNow - Started).TotalSeconds, 1), checks, statuses, residency);
    }

    /// <summary>Stored images and job inputs (Storage:Provider=s3): the bucket answers, exists and accepts the credentials.</summary>
    private static async Task<CheckDto> S3CheckAsync(S3ObjectStore bucket, CancellationToken requestAborted)
    {
        // A probe must answer while the prober still waits, whatever Storage:S3's timeouts and retries allow a request.
        using var probe = CancellationTokenSource.CreateLinkedTokenSource(requestAborted);
        probe.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            await bucket.CheckAsync(probe.Token);
            return new CheckDto("storage:s3", "healthy", bucket.Settings.Describe());
        }
        catch (StorageUnavailableException e)
        {
            return new CheckDto("storage:s3", "unhealthy", e.Message);
        }
        catch (OperationCanceledException) when (!requestAborted.IsCancellationRequested)
        {
            return new CheckDto("storage:s3", "unhealthy", $"S3 storage ({bucket.Settings.Describe()}) did not answer within 5 s.");
        }
    }

    /// <summary>The thread budget and run limits in force (Inference:*), with "auto" resolved: always healthy, shown for operators.</summary>
    private static CheckDto InferenceCheck(InferenceSettings s, ImageRequestAdmission admission) => new("inference", "healthy",
        (admission.MaxRequests > 0 ? $"{admission.MaxRequests} image requests at once (Server:MaxImageRequests); " : "image requests not bounded; ") +
        $"{s.Cpu.Cores} core(s) ({s.Cpu.Source}); {s.Threads} intra-op thread(s) " +
        (s.IntraOpThreads == 0 && OnnxSessionFactory.SharedThreads > 0 ? "in one pool shared by every model" : "per session") +
        (s.UsesAdaptiveSessions
            ? "; detection, face, classifier and text-detection models: a run alone in the process on a spinning pool of its own, every other run on one thread (Inference:AdaptiveSessions)"
            : "") +
        $"; {s.RunLimits.MaxConcurrent} run(s) at once per model; a run waits at most " +
        (s.MaxQueueWait is { } wait ? $"{wait.TotalMilliseconds:N0} ms" : "without bound") + " for its model");

    /// <summary>Which decoder JPEGs go through and whether they are shrunk on load (Images:TurboJpeg, Images:ShrinkOnLoad): always healthy, shown for operators.</summary>
    private static CheckDto DecodeCheck(ImageDecoder decoder) => new("decode", "healthy",
        "JPEG: " + TurboJpeg.Describe(decoder.TurboJpegRequested) +
        (decoder.ShrinkOnLoad ? "; shrink-on-load on" : "; shrink-on-load off (Images:ShrinkOnLoad=false)"));

    /// <summary>A small probe file written and deleted, so a full disk shows as well as a read-only one.</summary>
    private static CheckDto StorageCheck(string name, string directory, string option) =>
        LocalDirectoryProbe.WhyNotWritable(directory) is { } why
            ? new CheckDto(name, "unhealthy", $"{option} ({Path.GetFullPath(directory)}) is not writable: {why}")
            : new CheckDto(name, "healthy", Path.GetFullPath(directory));
}
