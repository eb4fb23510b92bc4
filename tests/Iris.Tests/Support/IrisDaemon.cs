using System.Collections.Concurrent;
using System.Diagnostics;

namespace Iris.Tests.Support;

/// <summary>
/// A long-running <c>iris</c> process (serve or worker) whose output lines are collected as they come, and which a
/// test can kill outright (SIGKILL, as a crash or the OOM killer would) or stop gracefully (SIGTERM).
/// </summary>
public sealed class IrisDaemon : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private KillTrigger? _killTrigger;

    private IrisDaemon(Process process) => _process = process;

    public IReadOnlyCollection<string> Lines => _lines;
    public bool HasExited => _process.HasExited;
    public int Id => _process.Id;

    public static IrisDaemon Start(IEnumerable<string> arguments, IDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "iris.dll"));
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("IRIS__", StringComparison.Ordinal)).ToList())
            start.Environment.Remove(key);
        foreach (var pair in environment ?? new Dictionary<string, string>())
            start.Environment[pair.Key] = pair.Value;
        var process = new Process { StartInfo = start };
        var daemon = new IrisDaemon(process);
        process.OutputDataReceived += (_, e) => daemon.Receive(e.Data);
        process.ErrorDataReceived += (_, e) => daemon.Receive(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return daemon;
    }

    private void Receive(string? line)
    {
        if (line is null) return;
        _lines.Enqueue(line);
        _killTrigger?.Observe(this, line);
    }

    /// <summary>
    /// SIGKILLs the process from the output reader itself as soon as <paramref name="count"/> lines match, so that a
    /// fast process cannot run on to the end while a polling test waits for its turn on a busy machine.
    /// </summary>
    public Task KillAfterLinesAsync(Func<string, bool> match, int count, TimeSpan timeout)
    {
        var trigger = new KillTrigger(match, count);
        _killTrigger = trigger;
        foreach (var line in _lines) trigger.Observe(this, line);
        return trigger.Killed.Task.WaitAsync(timeout).ContinueWith(async t =>
        {
            await t;
            await _process.WaitForExitAsync();
        }).Unwrap();
    }

    private sealed class KillTrigger(Func<string, bool> match, int count)
    {
        private int _seen;
        public TaskCompletionSource Killed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Observe(IrisDaemon daemon, string line)
        {
            if (!match(line) || Interlocked.Increment(ref _seen) != count) return;
            try { daemon._process.Kill(entireProcessTree: true); }
            catch (InvalidOperationException) { /* already exited: the test sees it from the counts */ }
            Killed.TrySetResult();
        }
    }

    public async Task WaitForLineAsync(Func<string, bool> match, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!_lines.Any(match))
        {
            if (_process.HasExited)
                throw new InvalidOperationException("iris exited early:\n" + string.Join('\n', _lines.TakeLast(40)));
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("iris did not print the expected line in time:\n" + string.Join('\n', _lines.TakeLast(40)));
            await Task.Delay(50);
        }
    }

    /// <summary>SIGKILL: no shutdown code runs, nothing is flushed or handed back.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, the signal a service manager or container runtime sends, then waits for a clean exit.</summary>
    public async Task<int> StopAsync(TimeSpan timeout)
    {
        if (!_process.HasExited)
            Process.Start("kill", ["-TERM", _process.Id.ToString()])!.WaitForExit();
        using var cancel = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cancel.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) await KillAsync();
        _process.Dispose();
    }
}
