using System.CommandLine;
using Iris.Configuration;
using Iris.Hosting;
using Serilog;

namespace Iris.Cli;

/// <summary><c>iris worker</c>: runs jobs from the configured queue, without serving HTTP, for scale-out.</summary>
public static class WorkerCommand
{
    public static Command Create()
    {
        var concurrency = new Option<int?>("--concurrency")
        {
            Description = "Jobs run at once by this worker. Default: Jobs:Workers, or 1 when that is 0.",
        };
        var command = new Command("worker",
            "Run a job worker: take jobs from the queue (Jobs:Queue) and store their results (Jobs:Store), with no HTTP server. " +
            "Start as many as you like, on this machine or others sharing the store, queue and job inputs (Jobs:InputDirectory, or the bucket with Storage:Provider=s3). " +
            "Workers also send finished jobs' webhooks (Jobs:WebhookSecret) and delete finished jobs past Jobs:Retention. " +
            "SIGTERM/Ctrl+C stops taking jobs and lets running ones finish for Jobs:ShutdownGraceSeconds before handing them back.");
        command.Options.Add(concurrency);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var (options, configuration) = CommonOptions.Load(parse);
            var slots = parse.GetValue(concurrency) ?? Math.Max(1, options.Jobs.Workers);
            if (slots < 1)
                throw new InvalidConfigurationException([$"--concurrency must be at least 1; got {slots}."]);

            StorageStartupCheck.RequireWritableDirectories(options, servesHttp: false);
            var metricsUrls = options.Metrics.Enabled
                ? options.Metrics.WorkerUrls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                : [];
            if (metricsUrls.Length == 0)
            {
                var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory, DisableDefaults = true });
                AddWorker(builder, options, configuration, slots, servesMetrics: false);
                using var host = builder.Build();
                await host.RunAsync();
                return 0;
            }
            // Metrics:WorkerUrls: the worker's own jobs, model runs and queue gauges on a small HTTP listener that
            // answers only the metrics path and /healthz, so Prometheus sees the worker tier too.
            var web = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
            web.WebHost.UseUrls(metricsUrls);
            web.WebHost.ConfigureKestrel(k => k.AddServerHeader = false);
            AddWorker(web, options, configuration, slots, servesMetrics: true);
            await using var app = web.Build();
            if (options.Metrics.ApiKey.Length > 0) app.UseMiddleware<Iris.Http.MetricsApiKey>();
            app.MapPrometheusScrapingEndpoint(options.Metrics.Path);
            app.MapGet("/healthz", () => Results.Text("ok"));
            await app.RunAsync();
            return 0;
        });
        return command;
    }

    private static void AddWorker(IHostApplicationBuilder builder, IrisOptions options, IConfiguration configuration, int slots, bool servesMetrics)
    {
        builder.Configuration.AddConfiguration(configuration);
        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = TimeSpan.FromSeconds(options.Jobs.ShutdownGraceSeconds + 10));
        builder.Services.AddSerilog((_, logger) => Logs.Configure(logger, options.Log));
        builder.Services.AddIrisCore(options);
        builder.Services.AddIrisTelemetry(options, servesHttp: servesMetrics);
        builder.Services.AddHostedService<ModelWarmupService>();
        builder.Services.AddIrisJobs(options).AddIrisJobWorkers(slots);
        builder.Services.AddIrisLibrary(options);
    }
}
