using NetVips;

namespace Iris.Core.Imaging;

/// <summary>
/// The one place libvips is configured for the process. Every user of NetVips (the decoder, the transformer) calls
/// <see cref="EnsureConfigured"/> before its first operation; the settings apply once.
/// </summary>
public static class Libvips
{
    private static readonly Lazy<bool> Configured = new(() =>
    {
        // Every request brings new bytes, so libvips' operation cache would only hold on to decoded buffers that are
        // never asked for again.
        Cache.Max = 0;
        return true;
    });

    public static void EnsureConfigured() => _ = Configured.Value;

    /// <summary>
    /// A progress sink for <c>Image.SetProgress</c>: NetVips ties an image's kill switch to a cancellation token through
    /// that call, which needs a sink even when nobody reads the progress.
    /// </summary>
    public static IProgress<int> NoProgress { get; } = new Progress();

    /// <summary>The line of a libvips error (or of a NetVips exception around one) worth showing a caller: not its "unable to call" preamble, at most 300 characters.</summary>
    public static string ErrorReason(Exception e)
    {
        var line = e.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .FirstOrDefault(l => !l.StartsWith("unable to call", StringComparison.Ordinal)) ?? e.Message;
        return line.Length > 300 ? line[..300] : line;
    }

    private sealed class Progress : IProgress<int>
    {
        public void Report(int value) { }
    }
}
