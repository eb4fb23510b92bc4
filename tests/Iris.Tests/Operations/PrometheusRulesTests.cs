using System.Text.Json.Nodes;

namespace Iris.Tests.Operations;

/// <summary>
/// deploy/prometheus checked by Prometheus's own tool: the rule files load, and the alert unit tests (series in, alerts
/// out, at given times) pass, with every alert shown both firing and resolved.
/// </summary>
public sealed class PrometheusRulesTests
{
    private static IEnumerable<string> RuleFiles => Directory.GetFiles(Tools.Deploy("prometheus", "rules"), "*.yml").Order();

    private static IEnumerable<JsonNode> Rules(string kind) =>
        RuleFiles.SelectMany(f => Tools.Yaml(f)["groups"]!.AsArray()).SelectMany(g => g!["rules"]!.AsArray()).Where(r => r![kind] is not null)!;

    [Fact]
    public async Task Promtool_check_rules_accepts_every_rule_file()
    {
        var outcome = await Tools.RunAsync("promtool", ["check", "rules", .. RuleFiles]);
        Assert.True(outcome.ExitCode == 0, outcome.Output);
        Assert.Contains("SUCCESS", outcome.Output);
    }

    [Fact]
    public async Task Promtool_check_config_accepts_the_compose_stacks_prometheus_configuration()
    {
        var outcome = await Tools.RunAsync("promtool", ["check", "config", "--syntax-only", Tools.Deploy("prometheus", "prometheus.yml")]);
        Assert.True(outcome.ExitCode == 0, outcome.Output);
    }

    [Fact]
    public async Task Promtool_test_rules_passes_the_alert_unit_tests()
    {
        var tests = Directory.GetFiles(Tools.Deploy("prometheus", "tests"), "*.test.yml").Order().ToArray();
        Assert.NotEmpty(tests);
        var outcome = await Tools.RunAsync("promtool", ["test", "rules", .. tests], workingDirectory: Tools.Deploy("prometheus", "tests"));
        Assert.True(outcome.ExitCode == 0, outcome.Output);
        Assert.DoesNotContain("FAILED", outcome.Output);
    }

    [Fact]
    public void Every_alert_has_a_runbook_and_a_unit_test_where_it_fires_and_one_where_it_resolves()
    {
        var cases = Directory.GetFiles(Tools.Deploy("prometheus", "tests"), "*.test.yml")
            .SelectMany(f => Tools.Yaml(f)["tests"]!.AsArray()).SelectMany(t => t!["alert_rule_test"]?.AsArray() ?? [])
            .Select(c => (Alert: (string)c!["alertname"]!, Fires: c["exp_alerts"]!.AsArray().Count > 0)).ToList();
        foreach (var alert in Rules("alert"))
        {
            var name = (string)alert["alert"]!;
            Assert.False(string.IsNullOrWhiteSpace((string?)alert["annotations"]?["runbook"]), $"{name} has no runbook annotation");
            Assert.False(string.IsNullOrWhiteSpace((string?)alert["annotations"]?["summary"]), $"{name} has no summary annotation");
            Assert.True(cases.Any(c => c.Alert == name && c.Fires), $"no unit test shows {name} firing");
            Assert.True(cases.Any(c => c.Alert == name && !c.Fires), $"no unit test shows {name} resolved");
        }
    }

    [Fact]
    public void Every_rule_names_only_metrics_iris_exports_or_rules_record()
    {
        var recorded = Rules("record").Select(r => (string)r["record"]!).ToHashSet();
        foreach (var rule in Rules("record").Concat(Rules("alert")))
        {
            var expr = (string)rule["expr"]!;
            foreach (var name in PromQl.MetricNames(expr))
                Assert.True(recorded.Contains(name) || ExportedMetrics.IsExported(name), $"'{name}' in `{expr}` is neither exported by Iris nor recorded by a rule");
        }
    }
}
