using System.Diagnostics;

namespace Iris.Tests.Support;

/// <summary>Runs the python3-onnx scripts of Support/Scripts, which build ONNX files the tests need.</summary>
public static class PythonScripts
{
    public static async Task RunAsync(string script, params string[] arguments)
    {
        var path = Path.Combine(TestPaths.RepositoryRoot, "tests", "Iris.Tests", "Support", "Scripts", script);
        // Debian's interpreter, where python3-onnx (scripts/install-test-deps.sh) lives, whatever python3 is first on PATH.
        var python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        var start = new ProcessStartInfo(python) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments.Prepend(path)) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        await stdout;
        Assert.True(process.ExitCode == 0, $"{script} failed (is python3-onnx installed? scripts/install-test-deps.sh): {await stderr}");
    }
}
