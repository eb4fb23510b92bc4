using Iris.Core.Jobs;

namespace Iris.Core.Storage;

/// <summary>
/// Stored images as objects <c>{Prefix}images/{id}</c> in an S3-compatible bucket, so every server and worker sees the
/// same images. Ids are content-addressed, so storing bytes that are already there uploads nothing.
/// </summary>
public sealed class S3BlobStore(S3ObjectStore bucket) : IBlobStore
{
    public const string KeyPrefix = "images/";

    public async Task<string> PutAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var id = BlobIds.For(data.Span);
        if (!await bucket.ExistsAsync(KeyPrefix + id, cancellationToken))
            await bucket.PutAsync(KeyPrefix + id, data, cancellationToken);
        return id;
    }

    public async Task<string> PutKeptAsync(ReadOnlyMemory<byte> data, string? owner, CancellationToken cancellationToken)
    {
        var id = BlobIds.For(data.Span);
        foreach (var mark in owner is null ? [KeptMarkFor(id, null)] : new[] { KeptMarkFor(id, owner), KeptMarkFor(id, null) })
            if (!await bucket.ExistsAsync(mark, cancellationToken))
                await bucket.PutAsync(mark, ReadOnlyMemory<byte>.Empty, cancellationToken);
        return await PutAsync(data, cancellationToken);
    }

    public async Task<bool> IsKeptAsync(string id, string? owner, CancellationToken cancellationToken) =>
        BlobIds.IsValid(id) && await bucket.ExistsAsync(KeptMarkFor(id, owner), cancellationToken);

    public Task<byte[]?> GetAsync(string id, CancellationToken cancellationToken) =>
        BlobIds.IsValid(id) ? bucket.GetAsync(KeyPrefix + id, cancellationToken) : Task.FromResult<byte[]?>(null);

    private static string KeptMarkFor(string id, string? owner) => KeyPrefix + id + BlobIds.KeptMarkSuffix(owner);

    public async Task<bool> DeleteAsync(string id, CancellationToken cancellationToken)
    {
        if (!BlobIds.IsValid(id) || !await bucket.ExistsAsync(KeyPrefix + id, cancellationToken)) return false;
        await bucket.DeleteAsync(KeyPrefix + id, cancellationToken);
        return true;
    }
}

/// <summary>
/// Job inputs as objects <c>{Prefix}job-inputs/{reference}</c> in the same bucket as the images, named by a random id.
/// An S3 PUT is durable once acknowledged and atomic to readers, so no temporary name is needed.
/// </summary>
public sealed class S3JobBlobStore(S3ObjectStore bucket) : IJobBlobStore
{
    public const string KeyPrefix = "job-inputs/";

    public async Task<string> PutAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var reference = JobBlobReferences.New();
        await bucket.PutAsync(KeyPrefix + reference, data, cancellationToken);
        return reference;
    }

    public Task<byte[]?> GetAsync(string reference, CancellationToken cancellationToken) =>
        bucket.GetAsync(KeyPrefix + JobBlobReferences.Checked(reference), cancellationToken);

    public Task DeleteAsync(string reference, CancellationToken cancellationToken) =>
        bucket.DeleteAsync(KeyPrefix + JobBlobReferences.Checked(reference), cancellationToken);
}
