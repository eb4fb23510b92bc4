using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Iris.Tests.Support;

/// <summary>
/// imgproxy URLs made by imgproxy's official node builder (generateImageUrl of @imgproxy/imgproxy-node, installed by
/// scripts/install-imgproxy-node.sh), so the tests send exactly what existing clients send. One node process per batch.
/// </summary>
public static class ImgproxyNode
{
    /// <summary>One generateImageUrl call: <paramref name="options"/> in the builder's own shape; plain or base64 source.</summary>
    public sealed record Call(string Source, JsonObject Options, bool Plain = false, bool Signed = true);

    public static async Task<IReadOnlyList<string>> UrlsAsync(string endpoint, string key, string salt, params Call[] calls)
    {
        var modules = Path.Combine(TestPaths.RepositoryRoot, "tools", "imgproxy-node", "node_modules");
        Assert.True(Directory.Exists(Path.Combine(modules, "@imgproxy", "imgproxy-node")),
            "@imgproxy/imgproxy-node is not installed: run scripts/install-imgproxy-node.sh (scripts/test.sh does).");
        var arguments = new JsonArray(calls.Select(c =>
        {
            var args = new JsonObject
            {
                ["endpoint"] = endpoint,
                ["url"] = c.Plain ? new JsonObject { ["value"] = c.Source, ["displayAs"] = "plain" } : c.Source,
                ["options"] = c.Options.DeepClone(),
            };
            if (c.Signed)
            {
                args["key"] = key;
                args["salt"] = salt;
            }
            return (JsonNode)args;
        }).ToArray());
        var script = Path.Combine(TestPaths.RepositoryRoot, "tests", "Iris.Tests", "Support", "Scripts", "imgproxy-urls.js");
        var start = new ProcessStartInfo("node", script) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["NODE_PATH"] = modules;
        // The builder falls back to these when a call has no key; an unsigned call must stay unsigned.
        start.Environment.Remove("IMGPROXY_KEY");
        start.Environment.Remove("IMGPROXY_SALT");
        using var process = Process.Start(start)!;
        await process.StandardInput.WriteAsync(arguments.ToJsonString());
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"imgproxy-node failed: {await stderr}");
        return JsonSerializer.Deserialize<string[]>(await stdout)!;
    }

    public static async Task<string> UrlAsync(string endpoint, string key, string salt, Call call) =>
        (await UrlsAsync(endpoint, key, salt, call))[0];
}
