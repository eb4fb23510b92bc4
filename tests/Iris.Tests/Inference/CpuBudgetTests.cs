using Iris.Core.Inference;
using Iris.Tests.Support;

namespace Iris.Tests.Inference;

/// <summary>The cores a process may use, read from copies of /proc/self/cgroup and the cgroup files a container sees.</summary>
public sealed class CpuBudgetTests
{
    private static TempDirectory Root(string membership, params (string Path, string Text)[] files)
    {
        var root = new TempDirectory();
        Write(root, "proc/self/cgroup", membership);
        foreach (var (path, text) in files) Write(root, path, text);
        return root;
    }

    private static void Write(TempDirectory root, string path, string text)
    {
        var full = Path.Combine(root.Path, path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, text);
    }

    [Fact]
    public void A_cgroup_v2_quota_of_two_cores_caps_a_sixteen_processor_machine_at_two()
    {
        using var root = Root("0::/\n", ("sys/fs/cgroup/cpu.max", "200000 100000\n"));
        var budget = CpuBudget.Read(root.Path, 16);
        Assert.Equal(2, budget.Cores);
        Assert.Contains("cpu.max", budget.Source);
    }

    [Fact]
    public void A_cgroup_v2_max_means_no_quota_so_the_processors_count()
    {
        using var root = Root("0::/system.slice/iris.service\n", ("sys/fs/cgroup/system.slice/iris.service/cpu.max", "max 100000\n"));
        Assert.Equal(new CpuBudget(8, "processors"), CpuBudget.Read(root.Path, 8));
    }

    [Fact]
    public void A_parent_cgroups_quota_binds_its_children()
    {
        using var root = Root("0::/kubepods/pod1/container\n",
            ("sys/fs/cgroup/kubepods/pod1/container/cpu.max", "max 100000"),
            ("sys/fs/cgroup/kubepods/pod1/cpu.max", "300000 100000"),
            ("sys/fs/cgroup/kubepods/cpu.max", "max 100000"));
        Assert.Equal(3, CpuBudget.Read(root.Path, 64).Cores);
    }

    [Fact]
    public void A_fractional_quota_rounds_down_but_never_below_one_core()
    {
        using var half = Root("0::/\n", ("sys/fs/cgroup/cpu.max", "50000 100000"));
        Assert.Equal(1, CpuBudget.Read(half.Path, 4).Cores);
        using var oneAndAHalf = Root("0::/\n", ("sys/fs/cgroup/cpu.max", "150000 100000"));
        Assert.Equal(1, CpuBudget.Read(oneAndAHalf.Path, 4).Cores);
    }

    [Fact]
    public void A_quota_above_the_processors_leaves_the_processors()
    {
        using var root = Root("0::/\n", ("sys/fs/cgroup/cpu.max", "800000 100000"));
        Assert.Equal(new CpuBudget(2, "processors"), CpuBudget.Read(root.Path, 2));
    }

    [Fact]
    public void A_cgroup_v1_cfs_quota_caps_the_processors()
    {
        using var root = Root("4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n2:cpuset:/docker/abc\n",
            ("sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "400000\n"),
            ("sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n"));
        var budget = CpuBudget.Read(root.Path, 32);
        Assert.Equal(4, budget.Cores);
        Assert.Contains("cfs_quota_us", budget.Source);
    }

    [Fact]
    public void A_cgroup_v1_quota_of_minus_one_is_no_limit()
    {
        using var root = Root("1:cpu:/\n0::/\n",
            ("sys/fs/cgroup/cpu/cpu.cfs_quota_us", "-1"),
            ("sys/fs/cgroup/cpu/cpu.cfs_period_us", "100000"));
        Assert.Equal(new CpuBudget(2, "processors"), CpuBudget.Read(root.Path, 2));
    }

    [Fact]
    public void Without_cgroup_files_the_processors_count()
    {
        using var root = new TempDirectory();
        Assert.Equal(new CpuBudget(6, "processors"), CpuBudget.Read(root.Path, 6));
    }

    [Fact]
    public void Auto_thread_and_run_counts_follow_the_budget_and_explicit_ones_win()
    {
        var auto = new InferenceSettings { Cpu = new CpuBudget(3, "test") };
        Assert.Equal(3, auto.Threads);
        Assert.Equal(3, auto.RunLimits.MaxConcurrent);
        var expert = new InferenceSettings(IntraOpThreads: 1, MaxConcurrentRuns: 5) { Cpu = new CpuBudget(3, "test") };
        Assert.Equal(1, expert.Threads);
        Assert.Equal(5, expert.RunLimits.MaxConcurrent);
    }
}
