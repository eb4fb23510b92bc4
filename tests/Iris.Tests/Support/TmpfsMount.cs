using System.Diagnostics;

namespace Iris.Tests.Support;

/// <summary>
/// A real, small tmpfs mounted on a temporary directory, for tests of full and read-only disks. Mounting needs root
/// (CI runs as root); elsewhere <see cref="TmpfsFactAttribute"/> skips the test.
/// </summary>
public sealed class TmpfsMount : IDisposable
{
    private static readonly Lazy<bool> CanMount = new(() =>
    {
        if (!OperatingSystem.IsLinux() || !Environment.IsPrivilegedProcess) return false;
        try
        {
            using var probe = new TmpfsMount(64 * 1024, readOnly: false);
            return true;
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return false;
        }
    });

    private readonly TempDirectory _directory = new();

    public TmpfsMount(long bytes, bool readOnly)
    {
        Run("mount", "-t", "tmpfs", "-o", $"size={bytes}{(readOnly ? ",ro" : "")}", "tmpfs", _directory.Path);
    }

    public static bool Permitted => CanMount.Value;

    public string Path => _directory.Path;

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Writes zeros until the file system answers ENOSPC.</summary>
    public void Fill()
    {
        var chunk = new byte[16 * 1024];
        using var filler = new FileStream(File("filler"), FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1);
        try
        {
            while (true) filler.Write(chunk);
        }
        catch (IOException)
        {
        }
        // Pages for smaller writes that a 16 KiB chunk could not use.
        try
        {
            while (true) filler.Write(chunk, 0, 512);
        }
        catch (IOException)
        {
        }
    }

    public void Dispose()
    {
        // Lazily: a file a test's server still holds open (a pooled SQLite connection) must not fail the test.
        Run("umount", "--lazy", Path);
        _directory.Dispose();
    }

    private static void Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start.");
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed: {error}");
    }
}

/// <summary>A fact that needs <see cref="TmpfsMount"/>: skipped where this process may not mount file systems.</summary>
public sealed class TmpfsFactAttribute : FactAttribute
{
    public TmpfsFactAttribute()
    {
        if (!TmpfsMount.Permitted) Skip = "Mounting a tmpfs needs root on Linux (as in CI).";
    }
}
