namespace Iris.Core.Library;

/// <summary>No library image has this id (or it is another caller's): 404, so another owner's image is not revealed.</summary>
public sealed class LibraryImageNotFoundException(string id)
    : Exception($"No image in the library has the id '{id}'. POST /v1/images adds one; GET /v1/images lists them.")
{
    public string Id { get; } = id;
}

/// <summary>A search or listing named a collection that holds no image: 404 rather than an empty answer that hides a typo.</summary>
public sealed class UnknownCollectionException(string collection)
    : Exception($"The library has no collection '{collection}'. Collections exist once an image is added with collection={collection}.");

/// <summary>
/// Vectors of two embedding models would be mixed in one index: refused. The library's space is the one its vectors
/// were made in; another model builds its own space beside it with <c>iris library reindex</c>.
/// </summary>
public sealed class EmbeddingSpaceMismatchException(string message) : Exception(message);

/// <summary>The same bytes are already in another caller's library; each image has one owner.</summary>
public sealed class LibraryImageOwnedException(string id)
    : Exception($"The image '{id}' (the same bytes) is already in another caller's library; an image has one owner.");
