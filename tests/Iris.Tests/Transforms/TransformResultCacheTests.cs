using Iris.Core.Imaging;
using Iris.Core.Transforms;
using Iris.Tests.Support;

namespace Iris.Tests.Transforms;

public class TransformResultCacheTests
{
    private static TransformResult Result(int size) => new(new byte[size], ImageFormat.Png, 1, 1);

    private static long DiskBytes(string directory) =>
        Directory.Exists(directory) ? new DirectoryInfo(directory).EnumerateFiles().Sum(f => f.Length) : 0;

    [Fact]
    public async Task Total_size_stays_within_the_bound_by_evicting_the_least_recently_used()
    {
        using var dir = new TempDirectory();
        var cache = new TransformResultCache(dir.Path, maxBytes: 10_000);
        await cache.PutAsync("a", Result(4000), default);
        await cache.PutAsync("b", Result(4000), default);
        Assert.NotNull(await cache.GetAsync("a", default)); // a is now more recent than b
        await cache.PutAsync("c", Result(4000), default);

        Assert.NotNull(await cache.GetAsync("a", default));
        Assert.Null(await cache.GetAsync("b", default));
        Assert.NotNull(await cache.GetAsync("c", default));
        Assert.True(cache.TotalBytes <= 10_000);
        Assert.True(DiskBytes(dir.Path) <= 10_000);
    }

    [Fact]
    public async Task Many_writes_never_leave_more_than_the_bound_on_disk()
    {
        using var dir = new TempDirectory();
        var cache = new TransformResultCache(dir.Path, maxBytes: 50_000);
        await Parallel.ForEachAsync(Enumerable.Range(0, 200), async (i, ct) => await cache.PutAsync($"k{i}", Result(1000 + i * 7), ct));
        Assert.True(DiskBytes(dir.Path) <= 50_000, $"{DiskBytes(dir.Path)} bytes on disk");
        Assert.Equal(DiskBytes(dir.Path), cache.TotalBytes);
        Assert.NotNull(await cache.GetAsync("k199", default));
    }

    [Fact]
    public async Task A_restarted_cache_finds_its_entries_and_still_respects_the_bound()
    {
        using var dir = new TempDirectory();
        var before = new TransformResultCache(dir.Path, maxBytes: 100_000);
        for (var i = 0; i < 10; i++) await before.PutAsync($"k{i}", Result(5000), default);

        var after = new TransformResultCache(dir.Path, maxBytes: 20_000);
        var hit = await after.GetAsync("k9", default);
        Assert.Equal((ImageFormat.Png, 1, 1), (hit!.Format, hit.Width, hit.Height));
        Assert.True(DiskBytes(dir.Path) <= 20_000);
    }

    [Fact]
    public async Task A_result_larger_than_the_whole_cache_is_not_stored_and_zero_disables_caching()
    {
        using var dir = new TempDirectory();
        var cache = new TransformResultCache(dir.Path, maxBytes: 1000);
        await cache.PutAsync("huge", Result(5000), default);
        Assert.Null(await cache.GetAsync("huge", default));
        var disabled = new TransformResultCache(dir.Path, maxBytes: 0);
        await disabled.PutAsync("x", Result(10), default);
        Assert.Null(await disabled.GetAsync("x", default));
    }
}
