using System.Diagnostics.Metrics;
using System.Reflection;
using Iris.Core.Telemetry;

namespace Iris.Tests.Operations;

/// <summary>
/// The metric names the dashboards and rules may use. <see cref="Scraped"/> is what /metrics showed after a server
/// exercised its routes (<see cref="OperationsStack"/>: detections, a refused image, a job), and
/// <see cref="ScrapeTests"/> checks each name against a live scrape, so the list cannot claim a metric that is gone.
/// </summary>
public static class ExportedMetrics
{
    /// <summary>Metric families (the <c># TYPE</c> names) of a real scrape; histograms also answer to _bucket, _sum and _count.</summary>
    public static readonly IReadOnlyDictionary<string, string> Scraped = new Dictionary<string, string>
    {
        ["aspnetcore_rate_limiting_active_request_leases"] = "gauge",
        ["aspnetcore_rate_limiting_request_lease_duration_seconds"] = "histogram",
        ["aspnetcore_rate_limiting_requests_total"] = "counter",
        ["aspnetcore_routing_match_attempts_total"] = "counter",
        ["dotnet_exceptions_total"] = "counter",
        ["dotnet_gc_collections_total"] = "counter",
        ["dotnet_gc_heap_total_allocated_bytes_total"] = "counter",
        ["dotnet_gc_last_collection_heap_size_bytes"] = "gauge",
        ["dotnet_gc_last_collection_memory_committed_size_bytes"] = "gauge",
        ["dotnet_gc_pause_time_seconds_total"] = "counter",
        ["dotnet_process_cpu_count"] = "gauge",
        ["dotnet_process_cpu_time_seconds_total"] = "counter",
        ["dotnet_process_memory_working_set_bytes"] = "gauge",
        ["dotnet_thread_pool_queue_length_total"] = "counter",
        ["dotnet_thread_pool_thread_count_total"] = "counter",
        ["http_server_active_requests"] = "gauge",
        ["http_server_request_duration_seconds"] = "histogram",
        ["iris_build_info"] = "gauge",
        ["iris_data_dir_free_bytes"] = "gauge",
        ["iris_data_dir_size_bytes"] = "gauge",
        ["iris_decode_admitted_total"] = "counter",
        ["iris_decode_pixels_in_flight"] = "gauge",
        ["iris_http_requests_in_flight"] = "gauge",
        ["iris_image_decode_duration_seconds"] = "histogram",
        ["iris_images_rejected_total"] = "counter",
        ["iris_job_oldest_age_seconds"] = "gauge",
        ["iris_job_queue_depth"] = "gauge",
        ["iris_jobs_finished_total"] = "counter",
        ["iris_jobs_submitted_total"] = "counter",
        ["iris_model_load_duration_seconds"] = "histogram",
        ["iris_model_loaded"] = "gauge",
        ["iris_model_last_used_timestamp_seconds"] = "gauge",
        ["iris_model_loads_total"] = "counter",
        ["iris_model_memory_bytes"] = "gauge",
        ["iris_model_run_duration_seconds"] = "histogram",
        ["iris_model_run_wait_seconds"] = "histogram",
        ["iris_model_runs_active"] = "gauge",
        ["iris_webhook_outbox_failed_total"] = "counter",
        ["iris_webhook_outbox_pending"] = "gauge",
        ["kestrel_active_connections"] = "gauge",
        ["target_info"] = "gauge",
        // Prometheus's own, for every target.
        ["up"] = "gauge",
    };

    /// <summary>
    /// Iris instruments whose series appear only after a rare event (a decode shed under overload, a Redis outage of
    /// the security stores, a refused or batched run, an unload): not in a plain scrape, so each is checked against the instrument declared in
    /// <see cref="IrisMetrics"/> instead (<see cref="DeclaredInIrisMetrics"/>).
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> EventOnly = new Dictionary<string, string>
    {
        ["iris_decode_shed_total"] = "iris.decode.shed",
        ["iris_requests_shed_total"] = "iris.requests.shed",
        ["iris_security_store_failures_total"] = "iris.security.store.failures",
        ["iris_inference_rejected_total"] = "iris.inference.rejected",
        ["iris_model_batch_size"] = "iris.model.batch.size",
        ["iris_model_batch_queue_seconds"] = "iris.model.batch.queue",
        ["iris_model_batch_rejected_total"] = "iris.model.batch.rejected",
        ["iris_model_unloads_total"] = "iris.model.unloads",
    };

    public static bool IsExported(string name) =>
        Families(Scraped).Contains(name) || EventOnly.ContainsKey(name)
        || (new[] { "_bucket", "_sum", "_count" }.FirstOrDefault(name.EndsWith) is { } suffix && EventOnly.ContainsKey(name[..^suffix.Length]));

    /// <summary>The sample names a set of families answers to (a histogram's _bucket, _sum and _count).</summary>
    public static HashSet<string> Families(IReadOnlyDictionary<string, string> families) =>
        families.SelectMany(f => f.Value == "histogram" ? [f.Key + "_bucket", f.Key + "_sum", f.Key + "_count"] : new[] { f.Key }).ToHashSet();

    public static bool DeclaredInIrisMetrics(string instrument) =>
        typeof(IrisMetrics).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(f => f.GetValue(null)).OfType<Instrument>().Any(i => i.Name == instrument);
}
