using System.Runtime;
using System.Runtime.InteropServices;
using Iris.Core.Telemetry;
using Microsoft.Extensions.Logging;

namespace Iris.Core.Imaging;

/// <summary>
/// Gives the memory of a burst of large images back to the operating system once the burst is over. Freed decoded
/// pixels stay with the process otherwise: the .NET heap keeps its large-object regions committed, and glibc keeps the
/// pages libvips' worker threads freed in their malloc arenas, so RSS stays near its peak long after the last request.
/// </summary>
/// <remarks>
/// <see cref="DecodeAdmission"/> reports every admission and the moment its pixels in flight drop back to zero. When at
/// least <see cref="MinBurstPixels"/> were admitted since the last trim and no decode starts for the quiet period, one
/// trim runs: a compacting, decommitting collection of the managed heap, then <c>malloc_trim(0)</c> on glibc. Nothing
/// runs while pixels are in flight, so the pause of the full collection never lands on a request under load.
/// </remarks>
public sealed class AfterBurstTrim : IDisposable
{
    /// <summary>
    /// About three 12-megapixel photos decoded to RGB: below it the pages a burst leaves are few, and a full blocking
    /// collection would cost more than it gives back.
    /// </summary>
    public const long MinBurstPixels = 30_000_000;

    private readonly object _gate = new();
    private readonly TimeSpan _quiet;
    private readonly TimeProvider _time;
    private readonly ILogger? _logger;
    private ITimer? _pending;
    private long _pixelsSinceTrim;
    private long _trims;

    public AfterBurstTrim(TimeSpan quiet, TimeProvider? time = null, ILogger? logger = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(quiet, TimeSpan.Zero);
        _quiet = quiet;
        _time = time ?? TimeProvider.System;
        _logger = logger;
    }

    /// <summary>Trims done so far.</summary>
    public long Trims => Interlocked.Read(ref _trims);

    /// <summary>A decode was admitted: the process is busy again, so a trim waiting for quiet is called off.</summary>
    internal void Admitted(long pixels)
    {
        lock (_gate)
        {
            _pixelsSinceTrim += pixels;
            _pending?.Dispose();
            _pending = null;
        }
    }

    /// <summary>No decoded pixels are in flight any more: after a large enough burst, a trim is due once the quiet period passes.</summary>
    internal void Drained()
    {
        lock (_gate)
        {
            if (_pixelsSinceTrim < MinBurstPixels) return;
            _pending?.Dispose();
            ITimer? timer = null;
            timer = _time.CreateTimer(_ => TrimIfStillQuiet(timer!), null, _quiet, Timeout.InfiniteTimeSpan);
            _pending = timer;
        }
    }

    private void TrimIfStillQuiet(ITimer timer)
    {
        lock (_gate)
        {
            // An admission since this timer was armed replaced or cleared it; only the latest quiet period counts.
            if (!ReferenceEquals(_pending, timer)) return;
            _pending = null;
            _pixelsSinceTrim = 0;
        }
        timer.Dispose();
        Trim();
    }

    private void Trim()
    {
        var rssBefore = Environment.WorkingSet;
        var managedBefore = GC.GetGCMemoryInfo().TotalCommittedBytes;
        // Aggressive: compacts and decommits the freed regions instead of keeping them for the next allocation.
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        var rssAfterManaged = Environment.WorkingSet;
        var managed = GC.GetGCMemoryInfo(GCKind.Any);
        var managedAfter = managed.TotalCommittedBytes;
        NativeHeap.Trim();
        var rssAfter = Environment.WorkingSet;

        Interlocked.Increment(ref _trims);
        IrisMetrics.MemoryTrims.Add(1);
        IrisMetrics.MemoryTrimReleased.Add(Math.Max(0, rssBefore - rssAfterManaged), new KeyValuePair<string, object?>("heap", "managed"));
        IrisMetrics.MemoryTrimReleased.Add(Math.Max(0, rssAfterManaged - rssAfter), new KeyValuePair<string, object?>("heap", "native"));
        _logger?.LogInformation(
            "Trimmed memory after a burst: RSS {RssBefore} MiB, {RssAfterManaged} MiB after compacting the managed heap (committed {ManagedBefore} to {ManagedAfter} MiB, heap {ManagedHeap} MiB of which {ManagedFragmented} MiB free), {RssAfter} MiB after malloc_trim",
            rssBefore >> 20, rssAfterManaged >> 20, managedBefore >> 20, managedAfter >> 20, managed.HeapSizeBytes >> 20, managed.FragmentedBytes >> 20, rssAfter >> 20);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _pending?.Dispose();
            _pending = null;
        }
    }

    /// <summary>glibc's malloc keeps freed pages in its per-thread arenas until asked to return them.</summary>
    internal static class NativeHeap
    {
        private static bool _unavailable;

        public static void Trim()
        {
            if (!OperatingSystem.IsLinux() || _unavailable) return;
            try
            {
                _ = malloc_trim(0);
            }
            catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
            {
                // musl (Alpine) has no malloc_trim; its allocator returns freed pages on its own.
                _unavailable = true;
            }
        }

        [DllImport("libc", EntryPoint = "malloc_trim")]
        private static extern int malloc_trim(nuint pad);
    }
}
