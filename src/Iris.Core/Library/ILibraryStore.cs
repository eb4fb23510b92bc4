using Iris.Core.Library.Vectors;

namespace Iris.Core.Library;

/// <summary>One full-text hit: the image and its rank among the matches (0 is best).</summary>
public sealed record TextMatch(string ImageId, int Rank);

/// <summary>
/// What a listing asks for: newest first, <see cref="Owner"/> null lists everyone's (Iris without auth); <see cref="Person"/>
/// only the images that person's faces are in.
/// </summary>
public sealed record LibraryQuery(string? Owner = null, string? Collection = null, int Limit = 50, string? Cursor = null, IndexState? State = null, string? Person = null);

/// <summary>
/// The library's metadata: one row per image, its index state and what indexing kept, a full-text index over caption,
/// OCR text, labels and tags, and the library's settings (the active embedding space). It lives in the job database
/// (SQLite by default, PostgreSQL with Jobs:Store=postgres), beside the jobs that index it.
/// </summary>
public interface ILibraryStore : IAsyncDisposable
{
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Inserts the image unless its id is already there; answers the stored row and whether this call created it.</summary>
    Task<(LibraryImage Image, bool Created)> AddAsync(LibraryImage image, CancellationToken cancellationToken);

    Task SetJobAsync(string id, string jobId, CancellationToken cancellationToken);

    Task<LibraryImage?> GetAsync(string id, CancellationToken cancellationToken);

    Task<IReadOnlyList<LibraryImage>> GetManyAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken);

    Task<LibraryPage> ListAsync(LibraryQuery query, CancellationToken cancellationToken);

    Task<bool> CollectionExistsAsync(string? owner, string collection, CancellationToken cancellationToken);

    /// <summary>Stores what indexing found and makes the image searchable by text; replaces an earlier indexing of it.</summary>
    Task<bool> MarkIndexedAsync(string id, IndexedFields fields, DateTimeOffset at, CancellationToken cancellationToken);

    Task<bool> MarkFailedAsync(string id, string error, CancellationToken cancellationToken);

    /// <summary>Back to queued, with no job yet (the indexing job is submitted next).</summary>
    Task<bool> MarkQueuedAsync(string id, CancellationToken cancellationToken);

    /// <summary>Records the indexing job of the image, leaving its state alone: that job may have finished already.</summary>
    Task<bool> AssignJobAsync(string id, string jobId, CancellationToken cancellationToken);

    Task<bool> DeleteAsync(string id, CancellationToken cancellationToken);

    /// <summary>Indexed images whose caption, OCR text, labels or tags match any of <paramref name="terms"/>, best first.</summary>
    Task<IReadOnlyList<TextMatch>> MatchTextAsync(IReadOnlyList<string> terms, VectorFilter filter, int limit, CancellationToken cancellationToken);

    /// <summary>How many images (of <paramref name="owner"/>, null: everyone's) are in <paramref name="state"/> (null: any).</summary>
    Task<long> CountAsync(string? owner, IndexState? state, CancellationToken cancellationToken);

    /// <summary>
    /// How many images (of <paramref name="owner"/> and <paramref name="collection"/>, null: all) are in each state, in one
    /// grouped query (the indexing progress reads it every few seconds, so it never lists images to count them).
    /// </summary>
    Task<IReadOnlyDictionary<IndexState, long>> CountByStateAsync(string? owner, string? collection, CancellationToken cancellationToken);

    Task<string?> GetSettingAsync(string key, CancellationToken cancellationToken);

    Task SetSettingAsync(string key, string? value, CancellationToken cancellationToken);

    /// <summary>The images a request with this idempotency key added, or null the first time the key is seen.</summary>
    Task<IReadOnlyList<string>?> FindRequestAsync(string? owner, string key, CancellationToken cancellationToken);

    Task SaveRequestAsync(string? owner, string key, IReadOnlyList<string> imageIds, CancellationToken cancellationToken);

    /// <summary>Records that two images are not near-duplicates, whatever their perceptual hashes say (idempotent).</summary>
    Task MarkDistinctAsync(string a, string b, CancellationToken cancellationToken);

    /// <summary>The pairs among <paramref name="ids"/> marked distinct, each as (smaller id, larger id).</summary>
    Task<IReadOnlySet<(string, string)>> DistinctPairsAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken);

    /// <summary>Ids of indexed images after <paramref name="afterId"/> in id order, for a resumable walk (reindex).</summary>
    Task<IReadOnlyList<string>> ListIndexedIdsAsync(string? afterId, int limit, CancellationToken cancellationToken);
}
