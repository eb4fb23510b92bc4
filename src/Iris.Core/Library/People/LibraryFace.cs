using Iris.Core.Detection;

namespace Iris.Core.Library.People;

/// <summary>How a face got its person: by clustering (may move when clustering runs again) or by a user (never moved by clustering).</summary>
public enum FaceSource { Auto, User }

/// <summary>
/// One face found in a library image: its box in the image's pixels, the detector's confidence and its identity
/// descriptor (L2-normalised, so a dot product is the cosine similarity), and the person it belongs to, if any.
/// </summary>
public sealed record LibraryFace
{
    /// <summary><c>{image id}_{index}</c>: stable across re-indexing of the same bytes by the same models.</summary>
    public required string Id { get; init; }
    public required string ImageId { get; init; }

    /// <summary>The image's owner ("" when Iris runs without authentication); people never span owners.</summary>
    public string Owner { get; init; } = "";

    public int Index { get; init; }
    public BoundingBox Box { get; init; }
    public float Confidence { get; init; }
    public required float[] Descriptor { get; init; }
    public string? PersonId { get; init; }
    public FaceSource Source { get; init; } = FaceSource.Auto;

    public static string IdOf(string imageId, int index) => $"{imageId}_{index}";
}

/// <summary>A person: a group of faces, named by a user or not yet (<see cref="Name"/> null).</summary>
public sealed record Person
{
    public required string Id { get; init; }
    public string Owner { get; init; } = "";
    public string? Name { get; init; }

    /// <summary>The face shown for the person (its image and box make the thumbnail).</summary>
    public string? CoverFaceId { get; init; }

    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>A person as a listing shows it: how many faces and images, and the cover face (its image and box).</summary>
public sealed record PersonSummary(Person Person, int FaceCount, int ImageCount, LibraryFace? Cover);

/// <summary>A face's new person (null: none) and why it is there.</summary>
public sealed record FaceAssignment(string FaceId, string? PersonId, FaceSource Source);

/// <summary>
/// One atomic change to the people of an owner: people created or updated, faces (re)assigned, faces that must never
/// again join a person (a user took them out), and people removed. Clustering, merge and split all end in one.
/// An <see cref="FaceSource.Auto"/> assignment never overwrites a face a user placed meanwhile.
/// </summary>
public sealed record PeopleChange
{
    public IReadOnlyList<Person> Upserts { get; init; } = [];
    public IReadOnlyList<FaceAssignment> Assignments { get; init; } = [];
    public IReadOnlyList<(string FaceId, string PersonId)> Rejections { get; init; } = [];
    public IReadOnlyList<string> Removals { get; init; } = [];

    public bool IsEmpty => Upserts.Count == 0 && Assignments.Count == 0 && Rejections.Count == 0 && Removals.Count == 0;
}
