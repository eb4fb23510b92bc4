using Iris.Core.Detection;
using Iris.Core.Tasks;

namespace Iris.Core.Library.People;

/// <summary>A person with the images their faces are in, newest indexing order of the store.</summary>
public sealed record PersonDetail(PersonSummary Summary, IReadOnlyList<string> ImageIds, IReadOnlyList<LibraryFace> Faces);

/// <summary>A face indexing found: where it is and its identity descriptor (L2-normalised).</summary>
public sealed record FoundFace(BoundingBox Box, float Confidence, float[] Descriptor);

/// <summary>
/// The people of the library: faces found at indexing are grouped into people by <see cref="FaceClustering"/>, users
/// name, merge and split them, and clustering respects what users did (a merged face stays, a face split out never
/// rejoins the person it left, named people are never dissolved or renamed). Changes are serialised in this process;
/// each ends in one transaction of the store.
/// </summary>
public sealed class LibraryPeople(IPeopleStore store, PeopleSettings settings, TimeProvider? clock = null)
{
    public const int MaxNameLength = 100;

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly HashSet<string> _dirty = new(StringComparer.Ordinal);
    private bool _clustering;

    public PeopleSettings Settings => settings;
    public IPeopleStore Store => store;

    /// <summary>People are kept per owner; "" is the library without authentication.</summary>
    public static string Key(string? owner) => owner ?? "";

    public Task<IReadOnlyList<PersonSummary>> ListAsync(string? owner, CancellationToken cancellationToken) =>
        store.SummariesAsync(Key(owner), null, cancellationToken);

    public async Task<PersonDetail> GetAsync(string id, string? owner, CancellationToken cancellationToken)
    {
        var summary = await SummaryAsync(id, owner, cancellationToken);
        return new PersonDetail(summary, await store.ImagesOfAsync(id, cancellationToken), await store.FacesOfAsync(null, id, cancellationToken));
    }

    /// <summary>The ids of the images a person of <paramref name="owner"/> is in (the <c>person</c> filter of search and listing).</summary>
    public async Task<IReadOnlySet<string>> ImagesOfAsync(string id, string? owner, CancellationToken cancellationToken)
    {
        await OwnedAsync(id, owner, cancellationToken);
        return (await store.ImagesOfAsync(id, cancellationToken)).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Names (or, with null or blank, un-names) a person. A named person is never removed by clustering.</summary>
    public async Task<PersonSummary> RenameAsync(string id, string? owner, string? name, CancellationToken cancellationToken)
    {
        name = string.IsNullOrWhiteSpace(name) ? null : name.Trim();
        if (name is { Length: > MaxNameLength })
            throw new InvalidParameterException($"A name is at most {MaxNameLength} characters; got {name.Length}.", "name");
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var person = await OwnedAsync(id, owner, cancellationToken);
            await store.ApplyAsync(new PeopleChange { Upserts = [person with { Name = name, UpdatedAt = _clock.GetUtcNow() }] }, cancellationToken);
        }
        finally { _gate.Release(); }
        return await SummaryAsync(id, owner, cancellationToken);
    }

    /// <summary>
    /// Merges people into <paramref name="id"/>: their faces move to it as placed by the user (clustering never moves
    /// them again), a face kept apart from a merged person stays apart from the result, and the merged people are
    /// removed. The result keeps its name, or takes the first merged person's name when it had none.
    /// </summary>
    public async Task<PersonSummary> MergeAsync(string id, string? owner, IReadOnlyList<string> from, CancellationToken cancellationToken)
    {
        var sources = from.Distinct(StringComparer.Ordinal).ToList();
        if (sources.Count == 0) throw new InvalidParameterException("Name the people to merge into this one: {\"ids\": [\"…\"]}.", "ids");
        if (sources.Contains(id)) throw new InvalidParameterException("A person cannot be merged into itself; leave its own id out of ids.", "ids");
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var target = await OwnedAsync(id, owner, cancellationToken);
            var merged = new List<Person>();
            foreach (var source in sources) merged.Add(await OwnedAsync(source, owner, cancellationToken));
            // The user says all these faces are one person: the target's own faces are confirmed too.
            var moved = (await store.FacesOfAsync(null, id, cancellationToken)).Select(f => new FaceAssignment(f.Id, id, FaceSource.User)).ToList();
            foreach (var source in merged)
                moved.AddRange((await store.FacesOfAsync(null, source.Id, cancellationToken)).Select(f => new FaceAssignment(f.Id, id, FaceSource.User)));
            var movedIds = moved.Select(m => m.FaceId).ToHashSet(StringComparer.Ordinal);
            var apart = (await store.RejectionsAsync(Key(owner), cancellationToken))
                .Where(r => sources.Contains(r.PersonId) && !movedIds.Contains(r.FaceId)).Select(r => (r.FaceId, id)).ToList();
            var now = _clock.GetUtcNow();
            await store.ApplyAsync(new PeopleChange
            {
                Upserts = [target with { Name = target.Name ?? merged.Find(p => p.Name is not null)?.Name, UpdatedAt = now }],
                Assignments = moved,
                Rejections = apart,
                Removals = sources,
            }, cancellationToken);
            await ClusterAsync(Key(owner), cancellationToken);
        }
        finally { _gate.Release(); }
        return await SummaryAsync(id, owner, cancellationToken);
    }

    /// <summary>
    /// Moves faces out of a person into a new one (named <paramref name="name"/>, or unnamed): they are placed by the
    /// user there, and never rejoin the person they left, whatever later clustering finds.
    /// </summary>
    public async Task<PersonSummary> SplitAsync(string id, string? owner, IReadOnlyList<string> faceIds, string? name, CancellationToken cancellationToken)
    {
        var ids = faceIds.Distinct(StringComparer.Ordinal).ToList();
        if (ids.Count == 0) throw new InvalidParameterException("Name the faces to move out of this person: {\"face_ids\": [\"…\"]} (GET /v1/people/{id} lists them).", "face_ids");
        name = string.IsNullOrWhiteSpace(name) ? null : name.Trim();
        if (name is { Length: > MaxNameLength })
            throw new InvalidParameterException($"A name is at most {MaxNameLength} characters; got {name.Length}.", "name");
        string created;
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var person = await OwnedAsync(id, owner, cancellationToken);
            var faces = (await store.FacesOfAsync(null, id, cancellationToken)).Select(f => f.Id).ToHashSet(StringComparer.Ordinal);
            if (ids.Find(f => !faces.Contains(f)) is { } stranger)
                throw new InvalidParameterException($"The face '{stranger}' is not one of this person's faces (GET /v1/people/{id} lists them).", "face_ids");
            var now = _clock.GetUtcNow();
            created = NewId();
            await store.ApplyAsync(new PeopleChange
            {
                Upserts = [new Person { Id = created, Owner = person.Owner, Name = name, CoverFaceId = ids[0], CreatedAt = now, UpdatedAt = now }],
                Assignments = ids.Select(f => new FaceAssignment(f, created, FaceSource.User)).ToList(),
                Rejections = ids.Select(f => (f, id)).ToList(),
            }, cancellationToken);
            await ClusterAsync(Key(owner), cancellationToken);
        }
        finally { _gate.Release(); }
        return await SummaryAsync(created, owner, cancellationToken);
    }

    /// <summary>Runs clustering over the owner's faces now (POST /v1/library/people/recluster).</summary>
    public async Task<ClusteringPlan> ReclusterAsync(string? owner, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try { return await ClusterAsync(Key(owner), cancellationToken); }
        finally { _gate.Release(); }
    }

    /// <summary>
    /// Indexing's part: stores the faces of an image (replacing an earlier indexing's, keeping their people), then, with
    /// <see cref="PeopleSettings.ClusterOnIndex"/>, clusters the owner's faces. Passes coalesce: while one runs, the
    /// images indexed meanwhile wait for one more pass after it, not one each.
    /// </summary>
    /// <param name="cluster">False for a bulk walk (reindex) that clusters once at its end.</param>
    public async Task AddFacesAsync(string imageId, string? owner, IReadOnlyList<FoundFace> found, CancellationToken cancellationToken, bool cluster = true)
    {
        var key = Key(owner);
        var faces = found.Select((f, i) => new LibraryFace
        {
            Id = LibraryFace.IdOf(imageId, i), ImageId = imageId, Owner = key, Index = i, Box = f.Box, Confidence = f.Confidence, Descriptor = f.Descriptor,
        }).ToList();
        await store.SaveFacesAsync(imageId, key, faces, cancellationToken);
        if (!cluster || !settings.ClusterOnIndex || faces.Count == 0) return;
        lock (_dirty)
        {
            _dirty.Add(key);
            if (_clustering) return;
            _clustering = true;
        }
        try
        {
            while (true)
            {
                string[] owners;
                lock (_dirty)
                {
                    if (_dirty.Count == 0) { _clustering = false; return; }
                    owners = [.. _dirty];
                    _dirty.Clear();
                }
                foreach (var next in owners) await ReclusterAsync(next, cancellationToken);
            }
        }
        catch
        {
            lock (_dirty) _clustering = false;
            throw;
        }
    }

    private async Task<ClusteringPlan> ClusterAsync(string owner, CancellationToken cancellationToken)
    {
        var faces = await store.FacesAsync(owner, cancellationToken);
        var people = await store.PeopleAsync(owner, cancellationToken);
        var rejected = await store.RejectionsAsync(owner, cancellationToken);
        var plan = FaceClustering.Plan(faces, people, rejected, settings, NewId, _clock.GetUtcNow());
        if (!plan.Change.IsEmpty) await store.ApplyAsync(plan.Change, cancellationToken);
        return plan;
    }

    private async Task<PersonSummary> SummaryAsync(string id, string? owner, CancellationToken cancellationToken) =>
        (await store.SummariesAsync(Key(owner), id, cancellationToken)).FirstOrDefault() ?? throw new PersonNotFoundException(id);

    /// <summary>The person, if <paramref name="owner"/> may see it; else <see cref="PersonNotFoundException"/>.</summary>
    public Task<Person> RequireAsync(string id, string? owner, CancellationToken cancellationToken) => OwnedAsync(id, owner, cancellationToken);

    private async Task<Person> OwnedAsync(string id, string? owner, CancellationToken cancellationToken)
    {
        var person = await store.GetPersonAsync(id, cancellationToken);
        return person is null || person.Owner != Key(owner) ? throw new PersonNotFoundException(id) : person;
    }

    private static string NewId() => Guid.CreateVersion7().ToString("N");
}
