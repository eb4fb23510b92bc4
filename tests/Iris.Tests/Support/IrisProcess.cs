using System.Diagnostics;

namespace Iris.Tests.Support;

/// <summary>Runs the real <c>iris</c> executable (built beside the tests) as a separate process.</summary>
public static class IrisProcess
{
    public sealed record Outcome(int ExitCode, string StandardOutput, string StandardError);

    public static async Task<Outcome> RunAsync(IEnumerable<string> arguments, IDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "iris.dll"));
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("IRIS__", StringComparison.Ordinal)).ToList())
            start.Environment.Remove(key);
        foreach (var pair in environment ?? new Dictionary<string, string>())
            start.Environment[pair.Key] = pair.Value;

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"iris {string.Join(' ', start.ArgumentList.Skip(1))} did not exit in time. stderr: {await stderr}");
        }
        return new Outcome(process.ExitCode, await stdout, await stderr);
    }
}
