using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Iris.Tests.Operations;

/// <summary>
/// The Grafana dashboards of deploy/grafana: each is importable JSON, every panel query parses (the test Prometheus
/// answers it, an unparseable query is an error) and names only metrics Iris exports or the rules record.
/// </summary>
[Collection(OperationsStackCollection.Name)]
public sealed partial class DashboardTests(OperationsStack stack)
{
    public static TheoryData<string> Dashboards() => new(Directory.GetFiles(Tools.Deploy("grafana", "dashboards"), "*.json").Select(Path.GetFileName).Order()!);

    private static JsonObject Load(string file) => JsonNode.Parse(File.ReadAllText(Tools.Deploy("grafana", "dashboards", file)))!.AsObject();

    private static IEnumerable<JsonNode> Panels(JsonObject dashboard) =>
        dashboard["panels"]!.AsArray().SelectMany(p => (p!["panels"]?.AsArray() ?? []).Prepend(p))!;

    private static IEnumerable<(string Panel, string Expr)> Queries(JsonObject dashboard) =>
        Panels(dashboard).SelectMany(p => (p["targets"]?.AsArray() ?? []).Select(t => ((string)p["title"]!, (string)t!["expr"]!)));

    [GeneratedRegex(@"label_values\((?<metric>[a-zA-Z_:][a-zA-Z0-9_:]*)")]
    private static partial Regex LabelValues();

    private static readonly HashSet<string> Recorded = Directory.GetFiles(Tools.Deploy("prometheus", "rules"), "*.yml")
        .SelectMany(f => Tools.Yaml(f)["groups"]!.AsArray()).SelectMany(g => g!["rules"]!.AsArray())
        .Where(r => r!["record"] is not null).Select(r => (string)r!["record"]!).ToHashSet();

    [Theory]
    [MemberData(nameof(Dashboards))]
    public void A_dashboard_is_importable_with_a_unique_uid_and_panels_that_do_not_overlap(string file)
    {
        var dashboard = Load(file);
        Assert.Equal(Path.GetFileNameWithoutExtension(file), (string)dashboard["uid"]!);
        Assert.Null(dashboard["id"]);   // an id from another Grafana would collide on import
        Assert.Contains("iris", dashboard["tags"]!.AsArray().Select(t => (string)t!));
        var cells = new HashSet<(int, int)>();
        foreach (var panel in Panels(dashboard))
        {
            var grid = panel["gridPos"]!;
            for (var x = (int)grid["x"]!; x < (int)grid["x"]! + (int)grid["w"]!; x++)
                for (var y = (int)grid["y"]!; y < (int)grid["y"]! + (int)grid["h"]!; y++)
                    Assert.True(cells.Add((x, y)), $"{file}: panel '{panel["title"]}' overlaps another at ({x}, {y})");
            if ((string)panel["type"]! != "row")
                Assert.False(string.IsNullOrWhiteSpace((string?)panel["description"]), $"{file}: panel '{panel["title"]}' says nothing about what it shows");
        }
    }

    [Theory]
    [MemberData(nameof(Dashboards))]
    public async Task Every_panel_query_parses_in_prometheus(string file)
    {
        await stack.Prometheus.WaitForAsync("up{job=\"iris\"}");
        foreach (var (panel, expr) in Queries(Load(file)))
        {
            var query = PromQl.WithoutGrafanaVariables(expr);
            Assert.DoesNotContain("$", query);
            try { await stack.Prometheus.QueryAsync(query); }
            catch (PromQlException e) { Assert.Fail($"{file}, panel '{panel}': {e.Message}"); }
        }
    }

    [Theory]
    [MemberData(nameof(Dashboards))]
    public void Every_panel_and_variable_names_only_metrics_iris_exports_or_the_rules_record(string file)
    {
        var dashboard = Load(file);
        var variables = dashboard["templating"]!["list"]!.AsArray()
            .Select(v => v!["query"] is JsonObject q ? (string?)q["query"] : (string?)v["query"]).OfType<string>()
            .SelectMany(q => LabelValues().Matches(q).Select(m => ("variable", m.Groups["metric"].Value)));
        var names = Queries(dashboard).SelectMany(q => PromQl.MetricNames(q.Expr).Select(n => (q.Panel, n))).Concat(variables);
        foreach (var (panel, name) in names)
            Assert.True(Recorded.Contains(name) || ExportedMetrics.IsExported(name), $"{file}, '{panel}': {name} is neither exported by Iris nor recorded by deploy/prometheus/rules");
    }

    [Fact]
    public void The_overview_shows_what_the_issue_asks_an_operator_to_see()
    {
        var exprs = string.Join('\n', Queries(Load("iris-overview.json")).Select(q => q.Expr));
        foreach (var metric in new[] { "iris:http_requests:rate5m", "http_server_request_duration_seconds_bucket", "iris:model_run_duration_seconds:p95_5m",
                     "iris:model_run_wait_seconds:p95_5m", "iris:image_decode_duration_seconds:p95_5m", "iris_images_rejected_total", "iris_decode_shed_total",
                     "iris_jobs_submitted_total", "iris:jobs_finished:rate5m", "iris:job_queue_depth:max", "iris:job_oldest_age_seconds:max",
                     "iris_webhook_outbox_pending", "aspnetcore_rate_limiting_requests_total", "dotnet_process_memory_working_set_bytes", "dotnet_gc_collections_total" })
            Assert.Contains(metric, exprs);
    }

    [Fact]
    public void Provisioning_points_grafana_at_the_dashboards_folder_and_a_prometheus_datasource()
    {
        var datasource = Tools.Yaml(Tools.Deploy("grafana", "provisioning", "datasources", "prometheus.yml"))["datasources"]![0]!;
        Assert.Equal("prometheus", (string)datasource["type"]!);
        var provider = Tools.Yaml(Tools.Deploy("grafana", "provisioning", "dashboards", "iris.yml"))["providers"]![0]!;
        Assert.Equal("file", (string)provider["type"]!);
        Assert.Equal("/var/lib/grafana/dashboards/iris", (string)provider["options"]!["path"]!);
    }
}
