using System.Text.Json.Nodes;
using Iris.Configuration;

namespace Iris.Tests.Operations;

/// <summary>
/// deploy/k8s rendered by <c>kubectl kustomize</c> (Debian's kubernetes-client where kubectl is missing): the objects,
/// and a worker tier that KEDA scales on Iris's own queue, with each alternative trigger rendered in place of the default.
/// </summary>
public sealed class KustomizeTests
{
    private static async Task<List<JsonNode>> RenderAsync(string directory)
    {
        var outcome = await Tools.RunAsync("kubectl", ["kustomize", directory]);
        Assert.True(outcome.ExitCode == 0, outcome.Output);
        return Tools.YamlDocuments(outcome.Output);
    }

    /// <summary>A copy of deploy/k8s whose kustomization lists <paramref name="scaling"/> instead of keda-redis.yaml.</summary>
    private static async Task<List<JsonNode>> RenderWithAsync(string scaling)
    {
        using var copy = new Iris.Tests.Support.TempDirectory();
        foreach (var file in Directory.GetFiles(Tools.Deploy("k8s"), "*.yaml"))
            File.Copy(file, copy.File(Path.GetFileName(file)));
        File.Copy(Tools.Deploy("k8s", "scaling", scaling), copy.File(scaling));
        var kustomization = await File.ReadAllTextAsync(copy.File("kustomization.yaml"));
        Assert.Contains("  - keda-redis.yaml", kustomization);
        await File.WriteAllTextAsync(copy.File("kustomization.yaml"), kustomization.Replace("  - keda-redis.yaml", "  - " + scaling));
        File.Delete(copy.File("keda-redis.yaml"));
        return await RenderAsync(copy.Path);
    }

    private static JsonNode Object(List<JsonNode> objects, string kind, string name) =>
        objects.Single(o => (string)o["kind"]! == kind && (string)o["metadata"]!["name"]! == name);

    private static Dictionary<string, string> ConfigMap(List<JsonNode> objects) =>
        Object(objects, "ConfigMap", "iris")["data"]!.AsObject().ToDictionary(p => p.Key, p => (string)p.Value!);

    [Fact]
    public async Task The_kustomization_renders_both_tiers_in_the_iris_namespace()
    {
        var objects = await RenderAsync(Tools.Deploy("k8s"));
        var kinds = objects.Select(o => $"{o["kind"]}/{o["metadata"]!["name"]}").ToHashSet();
        foreach (var expected in new[] { "Namespace/iris", "ConfigMap/iris", "Secret/iris", "Deployment/iris-api", "Service/iris", "HorizontalPodAutoscaler/iris-api",
                     "PodDisruptionBudget/iris-api", "Deployment/iris-worker", "ScaledObject/iris-worker", "TriggerAuthentication/iris-redis", "Secret/iris-keda" })
            Assert.Contains(expected, kinds);
        Assert.All(objects.Where(o => (string)o["kind"]! != "Namespace"), o => Assert.Equal("iris", (string)o["metadata"]!["namespace"]!));
        Assert.All(objects.Where(o => (string)o["kind"]! == "Deployment"),
            d => Assert.Equal("registry.example.com/iris:latest", (string)d["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]!));
    }

    [Fact]
    public async Task The_worker_deployment_leaves_its_replica_count_to_keda_and_serves_metrics()
    {
        var worker = Object(await RenderAsync(Tools.Deploy("k8s")), "Deployment", "iris-worker");
        Assert.Null(worker["spec"]!["replicas"]);
        var container = worker["spec"]!["template"]!["spec"]!["containers"]![0]!;
        var env = container["env"]!.AsArray().ToDictionary(e => (string)e!["name"]!, e => (string?)e!["value"]);
        Assert.Equal("http://0.0.0.0:9464", env["IRIS__Metrics__WorkerUrls"]);
        Assert.Equal("9464", (string)worker["spec"]!["template"]!["metadata"]!["annotations"]!["prometheus.io/port"]!);
        Assert.Equal("9464", (string)container["ports"]![0]!["containerPort"]!);
    }

    [Fact]
    public async Task The_scaled_object_targets_the_worker_deployment_on_the_redis_stream_and_group_iris_reads()
    {
        var objects = await RenderAsync(Tools.Deploy("k8s"));
        var scaled = Object(objects, "ScaledObject", "iris-worker");
        Assert.Equal("Deployment", (string)scaled["spec"]!["scaleTargetRef"]!["kind"]!);
        Assert.Equal("iris-worker", (string)scaled["spec"]!["scaleTargetRef"]!["name"]!);
        Object(objects, "Deployment", (string)scaled["spec"]!["scaleTargetRef"]!["name"]!);
        Assert.True(int.Parse((string)scaled["spec"]!["maxReplicaCount"]!) > int.Parse((string)scaled["spec"]!["minReplicaCount"]!));

        var trigger = scaled["spec"]!["triggers"]!.AsArray().Single()!;
        Assert.Equal("redis-streams", (string)trigger["type"]!);
        var config = ConfigMap(objects);
        Assert.Equal("redis", config["IRIS__Jobs__Queue"]);
        Assert.Equal(config["IRIS__Jobs__Redis__Stream"], (string)trigger["metadata"]!["stream"]!);
        // The group is Iris's default unless the configmap sets one.
        Assert.Equal(config.GetValueOrDefault("IRIS__Jobs__Redis__Group", new RedisJobsOptions().Group), (string)trigger["metadata"]!["consumerGroup"]!);
        Assert.True(int.Parse((string)trigger["metadata"]!["streamLength"]!) > 0);
        // The address is the one in the connection string Iris uses.
        var secret = Object(objects, "Secret", "iris")["stringData"]!;
        Assert.StartsWith((string)trigger["metadata"]!["address"]! + ",", (string)secret["IRIS__Jobs__Redis__ConnectionString"]!);
        var auth = Object(objects, "TriggerAuthentication", (string)trigger["authenticationRef"]!["name"]!);
        var secretRef = auth["spec"]!["secretTargetRef"]![0]!;
        Assert.NotNull(Object(objects, "Secret", (string)secretRef["name"]!)["stringData"]![(string)secretRef["key"]!]);
    }

    [Fact]
    public async Task The_rabbitmq_alternative_reads_iris_queue_with_the_workers_own_broker_uri()
    {
        var objects = await RenderWithAsync("keda-rabbitmq.yaml");
        var trigger = Object(objects, "ScaledObject", "iris-worker")["spec"]!["triggers"]![0]!;
        Assert.Equal("rabbitmq", (string)trigger["type"]!);
        Assert.Equal(new RabbitMqJobsOptions().Queue, (string)trigger["metadata"]!["queueName"]!);
        Assert.Equal("QueueLength", (string)trigger["metadata"]!["mode"]!);
        Assert.Equal("IRIS__Jobs__RabbitMq__Uri", (string)trigger["metadata"]!["hostFromEnv"]!);
    }

    [Fact]
    public async Task The_kafka_alternative_reads_the_lag_of_iris_consumer_group_on_the_request_topic()
    {
        var trigger = Object(await RenderWithAsync("keda-kafka.yaml"), "ScaledObject", "iris-worker")["spec"]!["triggers"]![0]!;
        Assert.Equal("kafka", (string)trigger["type"]!);
        Assert.Equal(new KafkaJobsOptions().GroupId, (string)trigger["metadata"]!["consumerGroup"]!);
        Assert.Equal(new KafkaJobsOptions().RequestTopic, (string)trigger["metadata"]!["topic"]!);
    }

    [Fact]
    public async Task The_postgres_alternative_counts_queued_jobs_in_iris_job_table()
    {
        var objects = await RenderWithAsync("keda-postgres.yaml");
        var trigger = Object(objects, "ScaledObject", "iris-worker")["spec"]!["triggers"]![0]!;
        Assert.Equal("postgresql", (string)trigger["type"]!);
        Assert.Equal("SELECT count(*) FROM jobs WHERE status = 'queued'", (string)trigger["metadata"]!["query"]!);
        Assert.Equal("postgres", ConfigMap(objects)["IRIS__Jobs__Store"]);
        Assert.Contains("Host=" + (string)trigger["metadata"]!["host"]!, (string)Object(objects, "Secret", "iris")["stringData"]!["IRIS__Jobs__Postgres__ConnectionString"]!);
    }
}
