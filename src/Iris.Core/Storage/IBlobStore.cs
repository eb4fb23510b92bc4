namespace Iris.Core.Storage;

/// <summary>
/// Where uploaded source images live, addressed by an opaque id. Local disk today; S3-compatible stores will implement
/// the same interface. Ids are content-addressed, so a stored image never changes under its id.
/// </summary>
public interface IBlobStore
{
    /// <summary>Stores the bytes and returns their id; storing the same bytes twice returns the same id.</summary>
    Task<string> PutAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>
    /// Stores the bytes as <see cref="PutAsync"/> does and marks them kept, by <paramref name="owner"/> when there is one:
    /// ids are content hashes, so an id handed to a client (an upload, a transform output) names the same blob as a
    /// library image of the same bytes, and deleting that image must not delete them; and with access control, only
    /// the callers who stored the bytes may name the id (<see cref="IsKeptAsync"/>). The marks are written before the bytes.
    /// </summary>
    Task<string> PutKeptAsync(ReadOnlyMemory<byte> data, string? owner, CancellationToken cancellationToken);

    /// <summary>Whether <see cref="PutKeptAsync"/> has stored this blob: for anyone when <paramref name="owner"/> is null, else for that owner.</summary>
    Task<bool> IsKeptAsync(string id, string? owner, CancellationToken cancellationToken);

    /// <summary>The stored bytes, or null when no blob has this id.</summary>
    Task<byte[]?> GetAsync(string id, CancellationToken cancellationToken);

    Task<bool> DeleteAsync(string id, CancellationToken cancellationToken);
}

public static class BlobIds
{
    /// <summary>32 lowercase hex characters (the first 128 bits of the content's SHA-256). Anything else is not an id, so it can never name a path outside the store.</summary>
    public static bool IsValid(string? id) =>
        id is { Length: 32 } && id.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');

    public static string For(ReadOnlySpan<byte> data) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(data))[..32];

    /// <summary>The suffix of the mark that <paramref name="owner"/> keeps a blob: a hash, since owners are free text.</summary>
    public static string KeptMarkSuffix(string? owner) =>
        owner is null ? ".kept" : ".kept." + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(owner)))[..32];
}

/// <summary>No stored image has this id (404).</summary>
public sealed class BlobNotFoundException(string id)
    : Exception($"No stored image has the id '{id}'. Upload it first with POST /api/v1/upload, which returns its id.");
