using Iris.Core.Storage;
using Iris.Tests.Support;

namespace Iris.Tests.Storage;

/// <summary>
/// What a durable write promises short of a power cut (which no test here can cause): the file is whole under its name,
/// no temporary file is left beside it, and an existing file is kept or replaced as asked.
/// </summary>
public sealed class DurableFileTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task A_written_file_is_whole_and_leaves_no_temporary_file()
    {
        var path = _directory.File("blob");
        var data = Enumerable.Range(0, 300_000).Select(i => (byte)i).ToArray();
        await DurableFile.WriteAsync(path, data, overwrite: false, CancellationToken.None);
        Assert.Equal(data, await File.ReadAllBytesAsync(path));
        Assert.Equal(["blob"], Directory.GetFiles(_directory.Path).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Without_overwrite_an_existing_file_is_kept_and_the_temporary_file_removed()
    {
        var path = _directory.File("input");
        await File.WriteAllBytesAsync(path, [1, 2, 3]);
        await Assert.ThrowsAsync<IOException>(() => DurableFile.WriteAsync(path, new byte[] { 9 }, overwrite: false, CancellationToken.None));
        Assert.Equal([1, 2, 3], await File.ReadAllBytesAsync(path));
        Assert.Single(Directory.GetFiles(_directory.Path));

        await DurableFile.WriteAsync(path, new byte[] { 9 }, overwrite: true, CancellationToken.None, flushDirectory: false);
        Assert.Equal([9], await File.ReadAllBytesAsync(path));
        Assert.Single(Directory.GetFiles(_directory.Path));
    }

    [Fact]
    public void Flushing_a_directory_that_does_not_exist_is_an_error_not_a_silent_success()
    {
        Assert.Throws<IOException>(() => DurableFile.FlushDirectory(_directory.File("missing")));
        DurableFile.FlushDirectory(_directory.Path);
    }

    [Fact]
    public void A_file_system_that_cannot_flush_a_directory_does_not_fail_the_write()
    {
        // procfs, like some FUSE and network mounts, answers EINVAL to a directory fsync: nothing to flush, not an error.
        DurableFile.FlushDirectory("/proc/self");
    }
}
