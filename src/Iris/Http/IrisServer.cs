using System.Text.Json;
using Iris.Configuration;
using Iris.Core.Telemetry;
using Iris.Hosting;
using Iris.Http.Facades;
using Iris.Security;
using Scalar.AspNetCore;
using Serilog;

namespace Iris.Http;

/// <summary>Builds the HTTP server: middleware order, JSON conventions, limits and every API area.</summary>
public static class IrisServer
{
    /// <param name="replaceServices">Tests' replacements (a fake clock, a model loader of their own), applied last.</param>
    public static WebApplication Build(IrisOptions options, IConfiguration configuration, Action<IServiceCollection>? replaceServices = null)
    {
        StorageStartupCheck.RequireWritableDirectories(options, servesHttp: true);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddConfiguration(configuration);
        builder.WebHost.UseUrls(options.Server.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = ImageUpload.RequestBodyLimit(options.ImageLimits());
            // Kestrel answers what it refuses while parsing with a bare status, before any middleware runs. Its request
            // line limit sits above Server:MaxUrlLength, so a long URL reaches UrlLengthLimit and gets a problem+json 414;
            // and header values are read as Latin-1 rather than refused for a non-ASCII byte, so the app decides (an
            // X-Request-Id that is not plain ASCII is replaced, like any unusable one).
            k.Limits.MaxRequestLineSize = Math.Max(64 * 1024, options.Server.MaxUrlLength + 4096);
            k.RequestHeaderEncodingSelector = _ => System.Text.Encoding.Latin1;
        });
        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = TimeSpan.FromSeconds(options.Server.ShutdownTimeoutSeconds));
        builder.Services.AddSerilog((_, logger) => Logs.Configure(logger, options.Log));
        builder.Services.AddIrisTelemetry(options, servesHttp: true);
        builder.Services.AddIrisAccess(options);
        builder.Services.AddIrisCors(options);

        builder.Services.AddIrisCore(options);
        builder.Services.AddSingleton(new ImageRequestAdmission(
            ImageRequestAdmission.Resolve(options.Server.MaxImageRequests, options.InferenceSettings().Cpu), options.InferenceSettings().MaxQueueWait));
        builder.Services.AddHostedService<ModelWarmupService>();
        builder.Services.AddIrisJobs(options).AddIrisJobWorkers(options.Jobs.Workers);
        builder.Services.AddIrisLibrary(options);
        builder.Services.AddIrisKnownPeople(options);
        builder.Services.AddHostedService<LibraryWarmupService>();
        ImageUpload.ConfigureLimits(builder.Services, options.ImageLimits());

        builder.Services.ConfigureHttpJsonOptions(j =>
        {
            j.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            j.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        });
        builder.Services.AddProblemDetails(p => p.CustomizeProblemDetails = c =>
        {
            c.ProblemDetails.Instance ??= c.HttpContext.Request.Path;
            c.ProblemDetails.Extensions["request_id"] = c.HttpContext.TraceIdentifier;
            c.ProblemDetails.Extensions.Remove("traceId");
            DeepStackFacade.AddClientErrorFields(c.HttpContext, c.ProblemDetails);
            ImgproxyFacade.UseImgproxyStatuses(c.HttpContext, c.ProblemDetails);
            ClassifierFacade.UseSeedFailureMessage(c.HttpContext, c.ProblemDetails, c.Exception);
        });
        builder.Services.AddExceptionHandler<ProblemDetailsMapping>();
        // A parameter the framework cannot bind (?limit=abc, a JSON body of the wrong shape) would otherwise end as a bare
        // 400 outside Development; thrown, it reaches ProblemDetailsMapping and its detail names the parameter.
        builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.AddOpenApi("v1", o => o.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "Iris";
            document.Info.Description = "Self-hosted image intelligence: understand, transform and search images.";
            return Task.CompletedTask;
        }));

        replaceServices?.Invoke(builder.Services);
        var app = builder.Build();
        // Fails start-up (exit 2) on an Analyze:DefaultTasks naming a task that does not exist, instead of the first request.
        app.Services.GetRequiredService<Iris.Core.Tasks.ImageAnalyzer>();
        app.UseMiddleware<RequestIdMiddleware>();
        app.UseSecurityHeaders();
        app.Use(async (http, next) =>
        {
            IrisMetrics.HttpRequestsInFlight.Add(1);
            try { await next(http); }
            finally { IrisMetrics.HttpRequestsInFlight.Add(-1); }
        });
        app.UseMiddleware<UrlLengthLimit>();
        app.UseSerilogRequestLogging(r =>
        {
            r.MessageTemplate = "{RequestMethod:l} {RequestPath:l} ({Route:l}) responded {StatusCode} in {Elapsed:0.0} ms";
            r.GetLevel = (http, _, error) =>
                error is not null || http.Response.StatusCode >= 500 ? Serilog.Events.LogEventLevel.Error : Serilog.Events.LogEventLevel.Information;
        });
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        if (options.Metrics.Enabled && options.Metrics.ApiKey.Length > 0)
            app.UseMiddleware<MetricsApiKey>();
        app.UseRouting();
        app.UseIrisCors(options);
        app.UseIrisAccess(options);
        // A decoded image lives as long as the request that holds it, so its pixels stay counted until the request ends.
        var admission = app.Services.GetRequiredService<Iris.Core.Imaging.DecodeAdmission>();
        app.Use(async (http, next) =>
        {
            using (admission.BeginScope())
                await next(http);
        });
        // Recorded here, after routing, because the exception handler clears the endpoint before the log line is written.
        app.Use((http, next) =>
        {
            http.RequestServices.GetRequiredService<IDiagnosticContext>()
                .Set("Route", (http.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "(no route)");
            return next(http);
        });

        // The API reference stays readable without a caller, like the probes.
        app.MapOpenApi("/openapi/{documentName}.json").AllowAnonymous();
        app.MapScalarApiReference("/docs", s => s.WithTitle("Iris API").WithOpenApiRoutePattern("/openapi/{documentName}.json")).AllowAnonymous();
        app.MapGet("/", () => TypedResults.Redirect(options.Ui.Enabled ? WebUi.Path : "/docs")).ExcludeFromDescription().AllowAnonymous();
        app.MapWebUi(options);
        app.MapHealthApi();
        app.MapModelsApi();
        app.MapDetectApi();
        app.MapClassifyApi();
        app.MapModerateApi();
        app.MapFacesApi();
        app.MapKnownPeopleApi();
        app.MapInfoApi();
        app.MapAnalyzeApi();
        app.MapOcrApi();
        app.MapDescribeApi();
        app.MapEmbedApi();
        app.MapTransformApi();
        app.MapImageProcessingFacade();
        app.MapJobsApi();
        app.MapDescriptionJobsFacade();
        app.MapCaptionServiceFacade();
        app.MapDeepStackFacade();
        app.MapImgproxyFacade(options);
        app.MapClassifierFacade();
        app.MapPredictionsApi();
        app.MapLibraryApi();
        app.MapSearchApi();
        app.MapPeopleApi();
        app.MapDuplicatesApi();
        app.MapImageCdnApi();
        app.MapImageSearchFacade();
        if (options.Metrics.Enabled)
            app.MapPrometheusScrapingEndpoint(options.Metrics.Path).AllowAnonymous();
        return app;
    }
}
