using System.Diagnostics;
using NetVips;

namespace Iris.Tests.Support;

/// <summary>
/// The `vips` command-line tool (Debian libvips-tools), an independent build of libvips used as the reference
/// that Iris's transforms are checked against.
/// </summary>
public static class VipsCli
{
    public static void Run(params string[] arguments) => RunTool("vips", arguments);

    public static string RunTool(string tool, params string[] arguments)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEnd();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{tool} {string.Join(' ', arguments)} failed ({process.ExitCode}): {stderr}");
        return stdout;
    }
}

/// <summary>Pixel comparisons between two images, with the numbers in the failure message.</summary>
public static class PixelAssert
{
    /// <summary>Same size and bands, and a mean absolute difference per sample of at most <paramref name="tolerance"/> (0–255).</summary>
    public static void Similar(Image expected, Image actual, double tolerance, string what)
    {
        Assert.True(expected.Width == actual.Width && expected.Height == actual.Height,
            $"{what}: expected {expected.Width}×{expected.Height}, got {actual.Width}×{actual.Height}");
        Assert.True(expected.Bands == actual.Bands, $"{what}: expected {expected.Bands} bands, got {actual.Bands}");
        var difference = MeanAbsoluteDifference(expected, actual);
        Assert.True(difference <= tolerance, $"{what}: mean absolute difference {difference:F3} exceeds {tolerance}");
    }

    public static double MeanAbsoluteDifference(Image a, Image b)
    {
        using var fa = a.Cast(Enums.BandFormat.Float);
        using var fb = b.Cast(Enums.BandFormat.Float);
        using var diff = (fa - fb).Abs();
        return diff.Avg();
    }
}
