using System.Reflection;
using System.Text.Json.Nodes;
using Iris.Configuration;
using Microsoft.Extensions.Configuration;

namespace Iris.Tests.Operations;

/// <summary>
/// deploy/docker-compose.full.yml cannot run here (no Docker), so its wiring is checked instead: every mounted file
/// exists and is one the other tests check, every IRIS__ variable names a real option and the whole set validates,
/// and Prometheus's targets are the services and ports Iris listens on.
/// </summary>
public sealed class ComposeStackTests
{
    private static readonly JsonNode Compose = Tools.Yaml(Tools.Deploy("docker-compose.full.yml"));

    private static JsonObject Services => Compose["services"]!.AsObject();

    private static IEnumerable<(string Service, string Source, string Target)> BindMounts() =>
        Services.SelectMany(s => (s.Value!["volumes"]?.AsArray() ?? []).Select(v => (string)v!).Select(v => v.Split(':'))
            .Where(parts => parts[0].StartsWith('.')).Select(parts => (s.Key, parts[0], parts[1])));

    private static Dictionary<string, string> Environment(string service) =>
        Services[service]!["environment"]!.AsObject().ToDictionary(p => p.Key, p => (string)p.Value!);

    [Fact]
    public void The_stack_has_every_service_the_issue_asks_for()
    {
        foreach (var service in new[] { "iris-api", "iris-worker", "postgres", "redis", "minio", "prometheus", "grafana", "otel-collector" })
            Assert.True(Services.ContainsKey(service), service);
        Assert.Equal(["serve"], Services["iris-api"]!["command"]!.AsArray().Select(c => (string)c!));
        Assert.Equal("worker", (string)Services["iris-worker"]!["command"]![0]!);
    }

    [Fact]
    public void Every_bind_mount_exists_and_the_config_files_are_the_ones_the_tests_check()
    {
        var mounts = BindMounts().ToList();
        foreach (var (service, source, _) in mounts.Where(m => !m.Source.StartsWith("../../", StringComparison.Ordinal)))
        {
            var path = Path.GetFullPath(Path.Combine(Tools.Deploy(), source));
            Assert.True(File.Exists(path) || Directory.Exists(path), $"{service} mounts {source}, which does not exist");
        }
        var byTarget = mounts.ToDictionary(m => (m.Service, m.Target), m => Path.GetFullPath(Path.Combine(Tools.Deploy(), m.Source)));
        Assert.Equal(Tools.Deploy("prometheus", "prometheus.yml"), byTarget[("prometheus", "/etc/prometheus/prometheus.yml")]);
        Assert.Equal(Tools.Deploy("prometheus", "rules"), byTarget[("prometheus", "/etc/prometheus/rules")]);
        Assert.Equal(Tools.Deploy("grafana", "provisioning"), byTarget[("grafana", "/etc/grafana/provisioning")]);
        Assert.Equal(Tools.Deploy("grafana", "dashboards"), byTarget[("grafana", "/var/lib/grafana/dashboards/iris")]);
        Assert.Equal(Tools.Deploy("otel-collector.yml"), byTarget[("otel-collector", "/etc/otelcol-contrib/config.yaml")]);
        // Where the provisioning and the prometheus config look is where compose puts the files.
        Assert.Equal("/var/lib/grafana/dashboards/iris", (string)Tools.Yaml(Tools.Deploy("grafana", "provisioning", "dashboards", "iris.yml"))["providers"]![0]!["options"]!["path"]!);
        Assert.Equal("/etc/prometheus/rules/*.yml", (string)Tools.Yaml(Tools.Deploy("prometheus", "prometheus.yml"))["rule_files"]![0]!);
    }

    public static TheoryData<string> IrisServices() => new("iris-api", "iris-worker");

    [Theory]
    [MemberData(nameof(IrisServices))]
    public void Every_iris_variable_names_a_real_option_and_the_settings_validate(string service)
    {
        var settings = Environment(service).Where(e => e.Key.StartsWith(IrisConfiguration.EnvironmentPrefix, StringComparison.Ordinal))
            .ToDictionary(e => e.Key[IrisConfiguration.EnvironmentPrefix.Length..].Replace("__", ":"), e => (string?)e.Value);
        Assert.NotEmpty(settings);
        foreach (var key in settings.Keys)
            Assert.True(IsOption(typeof(IrisOptions), key.Split(':')), $"{service}: IRIS__{key.Replace(":", "__")} is not an Iris option");
        // Paths that are the container's mounts (the model mirror) must exist to validate: stand in a directory for them.
        using var mount = new Iris.Tests.Support.TempDirectory();
        var targets = (Services[service]!["volumes"]?.AsArray() ?? []).Select(v => ((string)v!).Split(':')[1]).ToHashSet();
        foreach (var key in settings.Keys.Where(k => targets.Contains(settings[k]!)).ToList())
            settings[key] = mount.Path;
        var options = IrisConfiguration.Load(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        Assert.Equal("postgres", options.Jobs.Store);
        Assert.Equal("redis", options.Jobs.Queue);
    }

    private static bool IsOption(Type type, string[] path)
    {
        if (path.Length == 0) return true;
        if (type.IsGenericType && type.GetGenericTypeDefinition() is var generic
            && (generic == typeof(Dictionary<,>) || generic == typeof(IDictionary<,>) || generic == typeof(IReadOnlyDictionary<,>)))
            return IsOption(type.GetGenericArguments()[1], path[1..]);
        var property = type.GetProperty(path[0], BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
        return property is not null && IsOption(property.PropertyType, path[1..]);
    }

    [Fact]
    public void Prometheus_scrapes_the_ports_the_api_and_the_workers_listen_on()
    {
        var jobs = Tools.Yaml(Tools.Deploy("prometheus", "prometheus.yml"))["scrape_configs"]!.AsArray().ToDictionary(j => (string)j!["job_name"]!);
        var api = new Uri(Environment("iris-api")["IRIS__Server__Urls"]);
        Assert.Equal($"iris-api:{api.Port}", (string)jobs["iris-api"]!["static_configs"]![0]!["targets"]![0]!);
        var worker = new Uri(Environment("iris-worker")["IRIS__Metrics__WorkerUrls"]);
        var dns = jobs["iris-worker"]!["dns_sd_configs"]![0]!;
        Assert.Equal("iris-worker", (string)dns["names"]![0]!);
        Assert.Equal(worker.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), (string)dns["port"]!);
    }

    [Fact]
    public void Iris_sends_its_traces_to_the_collectors_otlp_http_receiver()
    {
        var endpoint = new Uri(Environment("iris-api")["IRIS__Tracing__OtlpEndpoint"]);
        Assert.Equal("otel-collector", endpoint.Host);
        var collector = Tools.Yaml(Tools.Deploy("otel-collector.yml"));
        Assert.EndsWith(":" + endpoint.Port, (string)collector["receivers"]!["otlp"]!["protocols"]!["http"]!["endpoint"]!);
        Assert.Contains("otlp", collector["service"]!["pipelines"]!["traces"]!["receivers"]!.AsArray().Select(r => (string)r!));
        Assert.Equal("/v1/traces", endpoint.AbsolutePath);
    }
}
