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
}
