using System.Globalization;

namespace Iris.Core.Inference;

/// <summary>
/// The cores this process may keep busy: the processors it may run on (<see cref="Environment.ProcessorCount"/>, which
/// follows the affinity mask and <c>DOTNET_PROCESSOR_COUNT</c>), lowered to a container's CPU quota (cgroup v2
/// <c>cpu.max</c>, cgroup v1 <c>cpu.cfs_quota_us</c> / <c>cpu.cfs_period_us</c>) along the process's cgroup path.
/// </summary>
/// <remarks>
/// A quota is rounded down (at least 1): 1.5 cores of quota with 2 busy threads is throttled for a third of every
/// period, which is worse for a parallel operator than one thread running free. .NET rounds the same quota up for
/// <see cref="Environment.ProcessorCount"/>, which is why the quota is read here too.
/// </remarks>
public sealed record CpuBudget(int Cores, string Source)
{
    private static readonly Lazy<CpuBudget> Current = new(() => Read("/", Environment.ProcessorCount));

    /// <summary>This process's budget, read once.</summary>
    public static CpuBudget Process => Current.Value;

    /// <summary>Reads the budget from the files under <paramref name="root"/> (<c>/</c>, or a test's copy of it).</summary>
    public static CpuBudget Read(string root, int processorCount)
    {
        var processors = Math.Max(1, processorCount);
        var quota = CgroupQuota(root);
        if (quota is { } q && q.Cores < processors)
            return new CpuBudget(Math.Max(1, (int)Math.Floor(q.Cores)), $"{q.Source} ({q.Cores.ToString("0.##", CultureInfo.InvariantCulture)} cores)");
        return new CpuBudget(processors, "processors");
    }

    /// <summary>The lowest quota on the process's cgroup path, in cores; null when there is none.</summary>
    private static (double Cores, string Source)? CgroupQuota(string root)
    {
        var membership = ReadText(Path.Combine(root, "proc/self/cgroup"));
        if (membership is null) return null;
        (double Cores, string Source)? lowest = null;
        foreach (var line in membership.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // hierarchy-id:controllers:path; v2 is "0::/path", v1 names its controllers ("4:cpu,cpuacct:/path").
            var parts = line.Split(':', 3);
            if (parts.Length != 3) continue;
            var controllers = parts[1].Split(',');
            (double Cores, string Source)? found = parts[0] == "0" && parts[1].Length == 0
                ? Lowest(root, "sys/fs/cgroup", parts[2], V2Quota)
                : controllers.Contains("cpu") ? V1Quota(root, parts[1], parts[2]) : null;
            if (found is { } f && (lowest is null || f.Cores < lowest.Value.Cores)) lowest = f;
        }
        return lowest;
    }

    private static (double, string)? V1Quota(string root, string controllers, string path)
    {
        // Mounted as cpu,cpuacct (with symlinks cpu and cpuacct) on most distributions, as cpu alone on some.
        foreach (var mount in new[] { controllers, "cpu,cpuacct", "cpu" }.Distinct())
        {
            var mountPoint = Path.Combine(root, "sys/fs/cgroup", mount);
            if (Directory.Exists(mountPoint)) return Lowest(root, Path.Combine("sys/fs/cgroup", mount), path, V1Quota);
        }
        return null;
    }

    /// <summary>
    /// The lowest quota from the cgroup up to the hierarchy's root: a parent's limit binds its children. Inside a
    /// container with its own cgroup namespace the path is "/" and the mount's root is the container's own cgroup.
    /// </summary>
    private static (double, string)? Lowest(string root, string mount, string path, Func<string, (double, string)?> quotaIn)
    {
        (double Cores, string Source)? lowest = null;
        var relative = path.Trim('/');
        while (true)
        {
            var directory = Path.Combine(root, mount, relative);
            if (quotaIn(directory) is { } q && (lowest is null || q.Item1 < lowest.Value.Cores)) lowest = q;
            if (relative.Length == 0) return lowest;
            var slash = relative.LastIndexOf('/');
            relative = slash < 0 ? "" : relative[..slash];
        }
    }

    /// <summary>cgroup v2 <c>cpu.max</c>: "QUOTA PERIOD" in microseconds, or "max PERIOD" for no limit.</summary>
    private static (double, string)? V2Quota(string directory)
    {
        var text = ReadText(Path.Combine(directory, "cpu.max"));
        var fields = text?.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (fields is not { Length: 2 } || fields[0] == "max") return null;
        return Ratio(fields[0], fields[1], "cgroup v2 cpu.max");
    }

    /// <summary>cgroup v1: <c>cpu.cfs_quota_us</c> is -1 for no limit.</summary>
    private static (double, string)? V1Quota(string directory)
    {
        var quota = ReadText(Path.Combine(directory, "cpu.cfs_quota_us"))?.Trim();
        var period = ReadText(Path.Combine(directory, "cpu.cfs_period_us"))?.Trim();
        return quota is null || period is null ? null : Ratio(quota, period, "cgroup v1 cpu.cfs_quota_us");
    }

    private static (double, string)? Ratio(string quota, string period, string source) =>
        long.TryParse(quota, NumberStyles.Integer, CultureInfo.InvariantCulture, out var q) && q > 0 &&
        long.TryParse(period, NumberStyles.Integer, CultureInfo.InvariantCulture, out var p) && p > 0
            ? ((double)q / p, source)
            : null;

    private static string? ReadText(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllText(path) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
