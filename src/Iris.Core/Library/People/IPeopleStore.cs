namespace Iris.Core.Library.People;

/// <summary>
/// The faces and people of the library, in the library's database (SQLite or PostgreSQL, beside library_images):
/// <c>library_faces</c> (one row per face with its descriptor and person), <c>library_people</c>, and
/// <c>library_face_rejections</c> (a face a user took out of a person never rejoins that person).
/// </summary>
public interface IPeopleStore
{
    /// <summary>
    /// Replaces the faces of an image (indexing, reindexing). A face with the same id as before keeps its person and
    /// source, so re-indexing the same bytes keeps what users and clustering decided; faces no longer found are removed.
    /// </summary>
    Task SaveFacesAsync(string imageId, string owner, IReadOnlyList<LibraryFace> faces, CancellationToken cancellationToken);

    /// <summary>Every face of the owner, with descriptors (what clustering reads).</summary>
    Task<IReadOnlyList<LibraryFace>> FacesAsync(string owner, CancellationToken cancellationToken);

    /// <summary>The faces of some images, or of one person.</summary>
    Task<IReadOnlyList<LibraryFace>> FacesOfAsync(IReadOnlyCollection<string>? imageIds, string? personId, CancellationToken cancellationToken);

    Task<IReadOnlyList<Person>> PeopleAsync(string owner, CancellationToken cancellationToken);

    Task<Person?> GetPersonAsync(string id, CancellationToken cancellationToken);

    /// <summary>The owner's people with face and image counts and cover faces: named first, then by face count.</summary>
    Task<IReadOnlyList<PersonSummary>> SummariesAsync(string owner, string? personId, CancellationToken cancellationToken);

    /// <summary>(face, person) pairs a user separated, of the owner's faces.</summary>
    Task<IReadOnlySet<(string FaceId, string PersonId)>> RejectionsAsync(string owner, CancellationToken cancellationToken);

    /// <summary>Applies the change in one transaction.</summary>
    Task ApplyAsync(PeopleChange change, CancellationToken cancellationToken);

    /// <summary>Ids of the images the person's faces are in.</summary>
    Task<IReadOnlyList<string>> ImagesOfAsync(string personId, CancellationToken cancellationToken);
}
