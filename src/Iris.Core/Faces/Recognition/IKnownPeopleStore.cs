namespace Iris.Core.Faces.Recognition;

/// <summary>
/// The registry of known people and their face descriptors, in the job database beside the library (SQLite, or
/// PostgreSQL with Jobs:Store=postgres). Every person belongs to an <c>owner</c> ("" without access control, see
/// <see cref="KnownPeople.Key"/>); names are unique per owner and every call sees only that owner's people.
/// </summary>
public interface IKnownPeopleStore
{
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Adds faces to the owner's person named <paramref name="name"/>, creating them when new, in one transaction.</summary>
    Task<KnownPerson> AddFacesAsync(string owner, string name, string model, IReadOnlyList<float[]> descriptors, CancellationToken cancellationToken);

    /// <summary>Creates a person with their first faces; <see cref="PersonNameTakenException"/> when the owner already has the name.</summary>
    Task<KnownPerson> CreateAsync(string owner, string name, string model, IReadOnlyList<float[]> descriptors, CancellationToken cancellationToken);

    Task<IReadOnlyList<KnownPerson>> ListAsync(string owner, CancellationToken cancellationToken);

    Task<KnownPerson?> GetAsync(string owner, Guid id, CancellationToken cancellationToken);

    Task<KnownPerson?> FindAsync(string owner, string name, CancellationToken cancellationToken);

    /// <summary>False when the owner has no such person; <see cref="PersonNameTakenException"/> when the name is another of theirs.</summary>
    Task<bool> RenameAsync(string owner, Guid id, string name, CancellationToken cancellationToken);

    /// <summary>Deletes the person and their faces; false when the owner had no such person.</summary>
    Task<bool> DeleteAsync(string owner, Guid id, CancellationToken cancellationToken);

    /// <summary>Every face of the owner's people made by <paramref name="model"/>, with its person (descriptors of another model are not comparable).</summary>
    Task<IReadOnlyList<KnownFace>> FacesAsync(string owner, string model, CancellationToken cancellationToken);
}
