namespace Iris.Core.Faces.Recognition;

/// <summary>
/// The registry of known people and their face descriptors, in the job database beside the library (SQLite, or
/// PostgreSQL with Jobs:Store=postgres).
/// </summary>
public interface IKnownPeopleStore
{
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Adds faces to the person named <paramref name="name"/>, creating them when new, in one transaction.</summary>
    Task<KnownPerson> AddFacesAsync(string name, string model, IReadOnlyList<float[]> descriptors, CancellationToken cancellationToken);

    /// <summary>Creates a person with their first faces; <see cref="PersonNameTakenException"/> when the name is taken.</summary>
    Task<KnownPerson> CreateAsync(string name, string model, IReadOnlyList<float[]> descriptors, CancellationToken cancellationToken);

    Task<IReadOnlyList<KnownPerson>> ListAsync(CancellationToken cancellationToken);

    Task<KnownPerson?> GetAsync(Guid id, CancellationToken cancellationToken);

    Task<KnownPerson?> FindAsync(string name, CancellationToken cancellationToken);

    /// <summary>False when there is no such person; <see cref="PersonNameTakenException"/> when the name is another's.</summary>
    Task<bool> RenameAsync(Guid id, string name, CancellationToken cancellationToken);

    /// <summary>Deletes the person and their faces; false when there was no such person.</summary>
    Task<bool> DeleteAsync(Guid id, CancellationToken cancellationToken);

    /// <summary>Every registered face made by <paramref name="model"/>, with its person (descriptors of another model are not comparable).</summary>
    Task<IReadOnlyList<KnownFace>> FacesAsync(string model, CancellationToken cancellationToken);
}
