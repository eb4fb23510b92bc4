namespace Iris.Core.Storage;

/// <summary>
/// Blobs as files under a root directory, fanned out by the id's first two characters (<c>ab/abcd…</c>) so no directory
/// grows too large. Writes are <see cref="DurableFile"/>s, so neither a reader nor a crash ever leaves half a blob.
/// The directory is created on first write: a server that never stores anything leaves no trace.
/// </summary>
/// <param name="option">The option that names <paramref name="root"/>, for a full disk's message.</param>
public sealed class LocalDiskBlobStore(string root, string option = "Storage:Directory") : IBlobStore
{
    public string Root { get; } = Path.GetFullPath(root);

    public async Task<string> PutAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var id = BlobIds.For(data.Span);
        var path = PathFor(id);
        if (File.Exists(path)) return id;
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await DurableFile.WriteAsync(path, data, overwrite: true, cancellationToken);
        }
        catch (IOException e) when (StorageFullException.IsDiskFull(e))
        {
            throw new StorageFullException("image store", option, Root, e);
        }
        return id;
    }

    public async Task<string> PutKeptAsync(ReadOnlyMemory<byte> data, string? owner, CancellationToken cancellationToken)
    {
        var id = BlobIds.For(data.Span);
        foreach (var mark in owner is null ? [KeptMarkFor(id, null)] : new[] { KeptMarkFor(id, owner), KeptMarkFor(id, null) })
        {
            if (File.Exists(mark)) continue;
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(mark)!);
                await DurableFile.WriteAsync(mark, ReadOnlyMemory<byte>.Empty, overwrite: true, cancellationToken);
            }
            catch (IOException e) when (StorageFullException.IsDiskFull(e))
            {
                throw new StorageFullException("image store", option, Root, e);
            }
        }
        return await PutAsync(data, cancellationToken);
    }

    public Task<bool> IsKeptAsync(string id, string? owner, CancellationToken cancellationToken) =>
        Task.FromResult(BlobIds.IsValid(id) && File.Exists(KeptMarkFor(id, owner)));

    public async Task<byte[]?> GetAsync(string id, CancellationToken cancellationToken)
    {
        if (!BlobIds.IsValid(id)) return null;
        try
        {
            return await File.ReadAllBytesAsync(PathFor(id), cancellationToken);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    public Task<bool> DeleteAsync(string id, CancellationToken cancellationToken)
    {
        if (!BlobIds.IsValid(id) || !File.Exists(PathFor(id))) return Task.FromResult(false);
        File.Delete(PathFor(id));
        return Task.FromResult(true);
    }

    private string PathFor(string id) => Path.Combine(Root, id[..2], id);

    private string KeptMarkFor(string id, string? owner) => PathFor(id) + BlobIds.KeptMarkSuffix(owner);
}
