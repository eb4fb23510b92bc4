using System.Diagnostics;

namespace Iris.Bench.Throughput;

/// <summary>
/// CPU time, garbage collections and peak working set of this process (which holds the load generator and the
/// server alike), and the whole machine's busy time from <c>/proc/stat</c>, so a run disturbed by other
/// processes shows as such.
/// </summary>
public readonly record struct ResourceCounters(
    TimeSpan ProcessorTime, long PeakWorkingSetBytes, int Gen2Collections, TimeSpan GcPause, long MachineBusyTicks, long MachineTotalTicks)
{
    public static ResourceCounters Read()
    {
        using var process = Process.GetCurrentProcess();
        var (busy, total) = ReadMachineTicks();
        return new ResourceCounters(
            process.TotalProcessorTime, process.PeakWorkingSet64, GC.CollectionCount(2), GC.GetTotalPauseDuration(), busy, total);
    }

    /// <summary>This process's share of all cores between <paramref name="earlier"/> and now, in percent (100 = every core busy).</summary>
    public double ProcessCpuPercentSince(ResourceCounters earlier, TimeSpan elapsed) =>
        100 * (ProcessorTime - earlier.ProcessorTime).TotalSeconds / (elapsed.TotalSeconds * Environment.ProcessorCount);

    /// <summary>The share of all cores that other processes used meanwhile, in percent; null where <c>/proc/stat</c> is not available.</summary>
    public double? OtherCpuPercentSince(ResourceCounters earlier, TimeSpan elapsed)
    {
        var total = MachineTotalTicks - earlier.MachineTotalTicks;
        if (total <= 0) return null;
        var machine = 100.0 * (MachineBusyTicks - earlier.MachineBusyTicks) / total;
        return Math.Max(0, machine - ProcessCpuPercentSince(earlier, elapsed));
    }

    private static (long Busy, long Total) ReadMachineTicks()
    {
        // First line: "cpu  user nice system idle iowait irq softirq steal guest guest_nice", summed over all cores.
        // guest time is already counted in user, so only the first eight fields make up the total.
        if (!File.Exists("/proc/stat")) return (0, 0);
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8).Select(long.Parse).ToArray();
        var total = fields.Sum();
        var idle = fields[3] + fields[4];
        return (total - idle, total);
    }
}
