using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Iris.Tests.Support;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace Iris.Tests.Operations;

/// <summary>The operations kit's files (deploy/) and the real tools that consume them: promtool, prometheus, kubectl.</summary>
public static class Tools
{
    public static string Deploy(params string[] parts) => Path.Combine([TestPaths.RepositoryRoot, "deploy", .. parts]);

    public sealed record Outcome(int ExitCode, string Output);

    /// <summary>Runs a tool installed by scripts/install-test-deps.sh; a missing one fails with how to get it.</summary>
    public static async Task<Outcome> RunAsync(string tool, IEnumerable<string> arguments, string? workingDirectory = null, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(Which(tool)) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory ?? TestPaths.RepositoryRoot };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try { await process.WaitForExitAsync(cancel.Token); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{tool} {string.Join(' ', arguments)} did not exit in time.");
        }
        return new Outcome(process.ExitCode, await stdout + await stderr);
    }

    public static string Which(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':').Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException($"{tool} is not installed: scripts/install-test-deps.sh installs it (Debian packages prometheus, kubernetes-client).");

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Every document of a YAML file (or text) as JSON nodes; scalars stay strings, as YAML 1.1 would not promise more.</summary>
    public static List<JsonNode> YamlDocuments(string text)
    {
        var deserializer = new DeserializerBuilder().Build();
        var json = new SerializerBuilder().JsonCompatible().Build();
        // MergingParser: compose files share settings with YAML merge keys (<<: *anchor).
        var parser = new MergingParser(new Parser(new StringReader(text)));
        parser.Consume<StreamStart>();
        var documents = new List<JsonNode>();
        while (parser.Accept<DocumentStart>(out _))
        {
            var value = deserializer.Deserialize<object?>(parser);
            if (value is not null) documents.Add(JsonNode.Parse(json.Serialize(value))!);
        }
        return documents;
    }

    public static JsonNode Yaml(string path) => YamlDocuments(File.ReadAllText(path)).Single();
}
