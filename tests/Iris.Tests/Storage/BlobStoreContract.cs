using Iris.Core.Jobs;
using Iris.Core.Storage;

namespace Iris.Tests.Storage;

/// <summary>
/// What every stored-image store (<see cref="IBlobStore"/>) and job input store (<see cref="IJobBlobStore"/>) must do,
/// whatever holds the bytes. Each backend gets a subclass that only says how to create its stores.
/// </summary>
public abstract class BlobStoreContract : IAsyncLifetime
{
    private static readonly byte[] Bytes = "the same bytes, stored twice"u8.ToArray();

    protected IBlobStore Images { get; private set; } = null!;
    protected IJobBlobStore JobInputs { get; private set; } = null!;

    protected abstract Task<(IBlobStore Images, IJobBlobStore JobInputs)> CreateAsync();

    public virtual async Task InitializeAsync() => (Images, JobInputs) = await CreateAsync();

    public abstract Task DisposeAsync();

    [Fact]
    public async Task An_image_is_stored_under_its_content_id_and_read_back()
    {
        var id = await Images.PutAsync(Bytes, CancellationToken.None);
        Assert.Equal(BlobIds.For(Bytes), id);
        Assert.Equal(Bytes, await Images.GetAsync(id, CancellationToken.None));
    }

    [Fact]
    public async Task A_kept_image_is_marked_kept_and_kept_by_its_owner_only()
    {
        var plain = await Images.PutAsync("plain bytes"u8.ToArray(), CancellationToken.None);
        Assert.False(await Images.IsKeptAsync(plain, null, CancellationToken.None));

        // Keeping bytes the library stored already marks the existing blob.
        Assert.Equal(plain, await Images.PutKeptAsync("plain bytes"u8.ToArray(), "key:alice", CancellationToken.None));
        Assert.True(await Images.IsKeptAsync(plain, null, CancellationToken.None));
        Assert.True(await Images.IsKeptAsync(plain, "key:alice", CancellationToken.None));
        Assert.False(await Images.IsKeptAsync(plain, "key:bob", CancellationToken.None));
        Assert.Equal("plain bytes"u8.ToArray(), await Images.GetAsync(plain, CancellationToken.None));

        var kept = await Images.PutKeptAsync(Bytes, null, CancellationToken.None);
        Assert.True(await Images.IsKeptAsync(kept, null, CancellationToken.None));
        Assert.False(await Images.IsKeptAsync(kept, "key:alice", CancellationToken.None));
        Assert.Equal(Bytes, await Images.GetAsync(kept, CancellationToken.None));
        Assert.False(await Images.IsKeptAsync("../../etc/passwd", null, CancellationToken.None));
    }

    [Fact]
    public async Task Storing_the_same_image_twice_gives_the_same_id_and_the_same_bytes()
    {
        var first = await Images.PutAsync(Bytes, CancellationToken.None);
        var second = await Images.PutAsync(Bytes.AsMemory(), CancellationToken.None);
        Assert.Equal(first, second);
        Assert.Equal(Bytes, await Images.GetAsync(second, CancellationToken.None));
    }

    [Fact]
    public async Task A_missing_or_malformed_image_id_reads_as_null()
    {
        Assert.Null(await Images.GetAsync(BlobIds.For("never stored"u8), CancellationToken.None));
        Assert.Null(await Images.GetAsync("../../etc/passwd", CancellationToken.None));
        Assert.Null(await Images.GetAsync("", CancellationToken.None));
    }

    [Fact]
    public async Task Deleting_an_image_removes_it_and_says_whether_it_was_there()
    {
        var id = await Images.PutAsync(Bytes, CancellationToken.None);
        Assert.True(await Images.DeleteAsync(id, CancellationToken.None));
        Assert.Null(await Images.GetAsync(id, CancellationToken.None));
        Assert.False(await Images.DeleteAsync(id, CancellationToken.None));
        Assert.False(await Images.DeleteAsync("not-an-id", CancellationToken.None));
    }

    [Fact]
    public async Task An_empty_image_is_stored_like_any_other()
    {
        var id = await Images.PutAsync(ReadOnlyMemory<byte>.Empty, CancellationToken.None);
        Assert.Equal(BlobIds.For([]), id);
        var stored = await Images.GetAsync(id, CancellationToken.None);
        Assert.NotNull(stored);
        Assert.Empty(stored);
    }

    [Fact]
    public async Task A_cancelled_store_is_cancelled_and_stores_nothing()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Images.PutAsync(Bytes, cancelled.Token));
        Assert.Null(await Images.GetAsync(BlobIds.For(Bytes), CancellationToken.None));
    }

    [Fact]
    public async Task A_job_input_is_stored_under_a_new_reference_each_time_and_read_back()
    {
        var first = await JobInputs.PutAsync(Bytes, CancellationToken.None);
        var second = await JobInputs.PutAsync(Bytes, CancellationToken.None);
        Assert.NotEqual(first, second);
        Assert.All(new[] { first, second }, r => Assert.True(r.All(char.IsAsciiLetterOrDigit), r));
        Assert.Equal(Bytes, await JobInputs.GetAsync(first, CancellationToken.None));
        Assert.Equal(Bytes, await JobInputs.GetAsync(second, CancellationToken.None));
    }

    [Fact]
    public async Task A_deleted_or_unknown_job_input_reads_as_null()
    {
        var reference = await JobInputs.PutAsync(Bytes, CancellationToken.None);
        await JobInputs.DeleteAsync(reference, CancellationToken.None);
        Assert.Null(await JobInputs.GetAsync(reference, CancellationToken.None));
        Assert.Null(await JobInputs.GetAsync(Guid.NewGuid().ToString("N"), CancellationToken.None));
    }

    [Fact]
    public async Task A_job_input_reference_that_could_name_another_place_is_refused()
    {
        await Assert.ThrowsAsync<ArgumentException>(async () => await JobInputs.GetAsync("../images/x", CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(async () => await JobInputs.DeleteAsync("a/b", CancellationToken.None));
    }
}
