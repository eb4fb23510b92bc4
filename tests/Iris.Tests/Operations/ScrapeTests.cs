using System.Globalization;

namespace Iris.Tests.Operations;

/// <summary>
/// Prometheus itself scrapes a running Iris: the exposition format, names and labels are proven against the real
/// consumer (a series Prometheus could not parse would be missing, and the whole scrape would fail).
/// </summary>
[Collection(OperationsStackCollection.Name)]
public sealed class ScrapeTests(OperationsStack stack)
{
    private static double Value(System.Text.Json.Nodes.JsonNode series) =>
        double.Parse((string)series["value"]![1]!, CultureInfo.InvariantCulture);

    [Fact]
    public async Task Prometheus_scrapes_iris_and_the_target_is_up()
    {
        var up = await stack.Prometheus.WaitForAsync("up{job=\"iris\"} == 1");
        Assert.Equal(stack.Address.Authority, (string)up.Single()!["metric"]!["instance"]!);
    }

    [Fact]
    public async Task Build_info_carries_the_version_and_commit_and_is_one()
    {
        var info = (await stack.Prometheus.WaitForAsync("iris_build_info")).Single()!;
        Assert.Equal(1, Value(info));
        Assert.False(string.IsNullOrEmpty((string?)info["metric"]!["version"]));
        // Built from a git checkout: the SDK stamps the commit; "unknown" only without SourceRevisionId.
        Assert.Matches("^([0-9a-f]{7,40}|unknown)$", (string)info["metric"]!["commit"]!);
    }

    [Fact]
    public async Task Request_duration_buckets_are_labelled_by_route_status_and_bound()
    {
        var buckets = await stack.Prometheus.WaitForAsync("http_server_request_duration_seconds_bucket{http_route=\"/v1/detect\",http_response_status_code=\"200\"}");
        var bounds = buckets.GroupBy(b => (string)b!["metric"]!["le"]!).ToDictionary(g => g.Key, g => g.Sum(b => Value(b!)));
        Assert.True(bounds.GetValueOrDefault("+Inf") >= 1, "buckets: " + string.Join(", ", bounds));
        // The latency SLO's rules read the 1 s bucket by its label: "1.0" when Prometheus negotiates OpenMetrics, "1" in
        // the plain text format; the rules match both.
        Assert.True(bounds.ContainsKey("1.0") || bounds.ContainsKey("1"), "buckets: " + string.Join(", ", bounds));
        // The same quantile the dashboards draw.
        var p95 = await stack.Prometheus.WaitForAsync("histogram_quantile(0.95, sum by (le, http_route) (rate(http_server_request_duration_seconds_bucket{http_route=\"/v1/detect\"}[1m])))");
        Assert.Single(p95);
    }

    [Fact]
    public async Task Queue_depth_and_oldest_age_are_reported_for_the_embedded_queue_with_its_backend_label()
    {
        var depth = (await stack.Prometheus.WaitForAsync("iris_job_queue_depth")).Single()!;
        Assert.Equal("embedded", (string)depth["metric"]!["backend"]!);
        Assert.Equal("default", (string)depth["metric"]!["queue"]!);
        // Meters are process-wide and the whole suite runs several servers with an embedded queue, whose series share
        // these labels: the value may be another server's, so only its form is checked here (JobQueueProbeTests and
        // OperationsGaugesTests check the values per backend).
        Assert.True(Value(depth) >= 0 && Value(depth) == Math.Floor(Value(depth)));
        var age = (await stack.Prometheus.WaitForAsync("iris_job_oldest_age_seconds{backend=\"embedded\"}")).Single()!;
        Assert.True(Value(age) >= 0);
        Assert.NotEmpty(await stack.Prometheus.WaitForAsync("iris_webhook_outbox_pending"));
        Assert.NotEmpty(await stack.Prometheus.WaitForAsync("iris_data_dir_free_bytes{store=\"job-database\"} > 0"));
        Assert.NotEmpty(await stack.Prometheus.WaitForAsync("iris_http_requests_in_flight >= 1"));
    }

    [Fact]
    public async Task Recording_rules_of_deploy_prometheus_evaluate_against_the_scraped_series()
    {
        // The groups evaluate every 30 s; a rate needs two scrapes of a counter, which Prometheus's own scrapes of
        // /metrics provide.
        Assert.NotEmpty(await stack.Prometheus.WaitForAsync("iris:http_requests:rate5m", TimeSpan.FromSeconds(90)));
        Assert.Single(await stack.Prometheus.WaitForAsync("iris:job_queue_depth:max{backend=\"embedded\"}", TimeSpan.FromSeconds(90)));
        Assert.Single(await stack.Prometheus.WaitForAsync("iris:job_oldest_age_seconds:max{backend=\"embedded\"}", TimeSpan.FromSeconds(90)));
    }

    [Fact]
    public void Every_metric_in_the_tests_list_of_exported_names_is_in_a_live_scrape()
    {
        var missing = ExportedMetrics.Scraped.Where(f => f.Key != "up" && (!stack.ScrapedFamilies.TryGetValue(f.Key, out var type) || type != f.Value)).ToList();
        Assert.True(missing.Count == 0, "listed in ExportedMetrics.Scraped but not scraped (or of another type): " + string.Join(", ", missing.Select(m => $"{m.Key} ({m.Value})")));
        foreach (var (name, instrument) in ExportedMetrics.EventOnly)
            Assert.True(ExportedMetrics.DeclaredInIrisMetrics(instrument), $"{name}: no instrument {instrument} in IrisMetrics");
    }
}
