using Iris.Configuration;
using Iris.Core.Telemetry;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Iris.Hosting;

/// <summary>
/// OpenTelemetry for a process: metrics for the Prometheus endpoint of <c>iris serve</c>, and traces sent over OTLP
/// to a collector when <c>Tracing:OtlpEndpoint</c> is set (requests, image decodes, model runs, jobs).
/// </summary>
public static class Telemetry
{
    public static IServiceCollection AddIrisTelemetry(this IServiceCollection services, IrisOptions options, bool servesHttp)
    {
        var metrics = servesHttp && options.Metrics.Enabled;
        var tracing = options.Tracing.OtlpEndpoint.Length > 0;
        if (!metrics && !tracing) return services;

        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("iris", serviceVersion: typeof(Telemetry).Assembly.GetName().Version?.ToString()));
        if (metrics)
            telemetry.WithMetrics(builder => builder
                .AddMeter(IrisMetrics.MeterName)
                // ASP.NET Core's and Kestrel's own meters: request durations by route and status, connections.
                .AddMeter("Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.Routing", "System.Runtime",
                    // Rate-limit rejections (aspnetcore_rate_limiting_requests_total by result).
                    "Microsoft.AspNetCore.RateLimiting")
                .AddPrometheusExporter());
        if (metrics)
            services.AddHostedService<OperationsGauges>();
        if (tracing)
            telemetry.WithTracing(builder =>
            {
                builder.AddSource(IrisTracing.SourceName)
                    .SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(options.Tracing.SampleRatio)))
                    .AddOtlpExporter(otlp =>
                    {
                        otlp.Protocol = options.Tracing.Protocol == "grpc" ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
                        // With http/protobuf the endpoint is the full traces URL, as OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is.
                        otlp.Endpoint = new Uri(options.Tracing.OtlpEndpoint);
                    });
                // Health probes and scrapes would drown the traces that matter.
                if (servesHttp)
                    builder.AddAspNetCoreInstrumentation(aspnet => aspnet.Filter = http =>
                        !http.Request.Path.StartsWithSegments("/healthz") && !http.Request.Path.StartsWithSegments("/readyz")
                        && !http.Request.Path.StartsWithSegments("/health/live") && !http.Request.Path.StartsWithSegments("/health/ready")
                        && !http.Request.Path.StartsWithSegments(options.Metrics.Path));
            });
        return services;
    }
}
