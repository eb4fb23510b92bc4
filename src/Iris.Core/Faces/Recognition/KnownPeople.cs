using Iris.Core.Tasks;

namespace Iris.Core.Faces.Recognition;

/// <summary>One face of a recognised image: the known person it is (null: unknown) and the similarity that decided it.</summary>
/// <param name="Similarity">Cosine similarity to the matched person's closest registered face; for an unknown face, to the closest known person at all (0 when nobody is registered).</param>
public sealed record RecognizedFace(EmbeddedFace Face, KnownPerson? Person, float Similarity);

public sealed record Recognition(FaceEmbeddingResult Image, IReadOnlyList<RecognizedFace> Faces, float Threshold);

/// <summary>The similarity of the largest face of one image to the largest face of another.</summary>
public sealed record FaceMatch(float Similarity, EmbeddedFace First, EmbeddedFace Second);

/// <summary>
/// Known people (face recognition): register a person from one or more photos (one face each), list, rename, delete,
/// and name the faces of a new photo. A face is a known person when the cosine similarity of its descriptor to one of
/// that person's registered descriptors reaches the threshold (Faces:RecognitionThreshold, calibrated in the README);
/// within one photo each person is given to at most one face, the most similar, since a person appears once in a photo.
/// People are per owner, like jobs and the library: every method takes the caller's owner (null: Iris without access
/// control) and sees, names and recognises only that owner's people.
/// </summary>
public sealed class KnownPeople(IKnownPeopleStore store, FaceEmbedder embedder, float defaultThreshold)
{
    public const int MaxNameLength = 100;

    /// <summary>
    /// Photos per registration and faces per person: every photo is a detection and an embedding, and every recognition
    /// compares each face with all of the owner's registered faces, so neither may grow without end.
    /// </summary>
    public const int MaxImagesPerRequest = 20, MaxFacesPerPerson = 100;
    private readonly SemaphoreSlim _schema = new(1, 1);
    private volatile bool _ready;

    public float DefaultThreshold => defaultThreshold;

    /// <summary>The owner as stored: "" for the null owner (no access control), as the library's people.</summary>
    public static string Key(string? owner) => owner ?? "";

    /// <summary>
    /// Registers the face of each image as <paramref name="name"/>: a new person, or more faces for an existing one when
    /// <paramref name="addToExisting"/> (DeepStack's register), else <see cref="PersonNameTakenException"/>. Every image is
    /// embedded before anything is stored, so a bad image registers nothing.
    /// </summary>
    public async Task<KnownPerson> RegisterAsync(string? owner, string name, IReadOnlyList<FaceSample> images, FaceChoice choice, bool addToExisting,
        CancellationToken cancellationToken = default)
    {
        name = ValidName(name, "name");
        await EnsureSchemaAsync(cancellationToken);
        if (addToExisting && await store.FindAsync(Key(owner), name, cancellationToken) is { } existing)
            CheckRoom(existing, images.Count);
        var descriptors = await DescriptorsAsync(images, choice, cancellationToken);
        var model = embedder.Defaults.Model;
        return addToExisting
            ? await store.AddFacesAsync(Key(owner), name, model, descriptors, cancellationToken)
            : await store.CreateAsync(Key(owner), name, model, descriptors, cancellationToken);
    }

    /// <summary>More photos of a known person.</summary>
    public async Task<KnownPerson> AddFacesAsync(string? owner, Guid id, IReadOnlyList<FaceSample> images, FaceChoice choice,
        CancellationToken cancellationToken = default)
    {
        var person = await GetAsync(owner, id, cancellationToken);
        CheckRoom(person, images.Count);
        var descriptors = await DescriptorsAsync(images, choice, cancellationToken);
        return await store.AddFacesAsync(Key(owner), person.Name, embedder.Defaults.Model, descriptors, cancellationToken);
    }

    public async Task<IReadOnlyList<KnownPerson>> ListAsync(string? owner, CancellationToken cancellationToken = default)
    {
        await EnsureSchemaAsync(cancellationToken);
        return await store.ListAsync(Key(owner), cancellationToken);
    }

    /// <summary>The owner's person with this id; another owner's person is as unknown as none.</summary>
    public async Task<KnownPerson> GetAsync(string? owner, Guid id, CancellationToken cancellationToken = default)
    {
        await EnsureSchemaAsync(cancellationToken);
        return await store.GetAsync(Key(owner), id, cancellationToken) ?? throw new UnknownPersonException(id.ToString("D"));
    }

    public async Task<KnownPerson> RenameAsync(string? owner, Guid id, string name, CancellationToken cancellationToken = default)
    {
        name = ValidName(name, "name");
        await EnsureSchemaAsync(cancellationToken);
        if (!await store.RenameAsync(Key(owner), id, name, cancellationToken)) throw new UnknownPersonException(id.ToString("D"));
        return await GetAsync(owner, id, cancellationToken);
    }

    public async Task DeleteAsync(string? owner, Guid id, CancellationToken cancellationToken = default)
    {
        await EnsureSchemaAsync(cancellationToken);
        if (!await store.DeleteAsync(Key(owner), id, cancellationToken)) throw new UnknownPersonException(id.ToString("D"));
    }

    /// <summary>Deletes the owner's person with this name (DeepStack's delete by <c>userid</c>).</summary>
    public async Task DeleteAsync(string? owner, string name, CancellationToken cancellationToken = default)
    {
        await EnsureSchemaAsync(cancellationToken);
        var person = await store.FindAsync(Key(owner), name, cancellationToken) ?? throw new UnknownPersonException(name);
        await store.DeleteAsync(Key(owner), person.Id, cancellationToken);
    }

    /// <summary>Finds the faces of <paramref name="image"/> and names each one of the owner's known people or unknown.</summary>
    public async Task<Recognition> RecognizeAsync(string? owner, byte[] image, float? threshold = null, CancellationToken cancellationToken = default)
    {
        var limit = threshold ?? defaultThreshold;
        var embedded = await embedder.EmbedAsync(image, cancellationToken);
        await EnsureSchemaAsync(cancellationToken);
        var known = embedded.Faces.Count == 0 ? [] : await store.FacesAsync(Key(owner), embedded.Model, cancellationToken);
        var people = embedded.Faces.Count == 0 ? [] : (await store.ListAsync(Key(owner), cancellationToken)).ToDictionary(p => p.Id);
        return new Recognition(embedded, Assign(embedded.Faces, known, people, limit), limit);
    }

    /// <summary>How similar the largest face of <paramref name="first"/> is to the largest face of <paramref name="second"/>.</summary>
    public async Task<FaceMatch> MatchAsync(FaceSample first, FaceSample second, CancellationToken cancellationToken = default)
    {
        var a = Largest(await embedder.EmbedAsync(first.Image, cancellationToken), first.Field);
        var b = Largest(await embedder.EmbedAsync(second.Image, cancellationToken), second.Field);
        return new FaceMatch(FaceDescriptors.Similarity(a.Description.Descriptor, b.Description.Descriptor), a, b);

        static EmbeddedFace Largest(FaceEmbeddingResult result, string field) =>
            result.Faces.MaxBy(f => f.Box.Area) ?? throw new NoFaceFoundException(field, "there is nothing to compare");
    }

    /// <summary>
    /// Greedy one-to-one assignment: all (face, person) pairs at or above the threshold, most similar first; a pair is
    /// taken when neither its face nor its person is taken yet.
    /// </summary>
    private static List<RecognizedFace> Assign(IReadOnlyList<EmbeddedFace> faces, IReadOnlyList<KnownFace> known,
        Dictionary<Guid, KnownPerson> people, float threshold)
    {
        var best = new Dictionary<(int Face, Guid Person), float>();
        var closest = new float[faces.Count];
        for (var i = 0; i < faces.Count; i++)
            foreach (var k in known)
            {
                var similarity = FaceDescriptors.Similarity(faces[i].Description.Descriptor, k.Descriptor);
                closest[i] = Math.Max(closest[i], similarity);
                if (!best.TryGetValue((i, k.PersonId), out var current) || similarity > current) best[(i, k.PersonId)] = similarity;
            }
        var matched = new (Guid Person, float Similarity)?[faces.Count];
        var taken = new HashSet<Guid>();
        foreach (var ((face, person), similarity) in best.Where(p => p.Value >= threshold).OrderByDescending(p => p.Value))
        {
            if (matched[face] is not null || taken.Contains(person)) continue;
            matched[face] = (person, similarity);
            taken.Add(person);
        }
        return faces.Select((f, i) => matched[i] is { } m && people.TryGetValue(m.Person, out var person)
            ? new RecognizedFace(f, person, m.Similarity)
            : new RecognizedFace(f, null, closest[i])).ToList();
    }

    // Checked before any photo is embedded; two registrations at once may still pass it together, which only bends the bound.
    private static void CheckRoom(KnownPerson person, int adding)
    {
        if (person.Faces + adding > MaxFacesPerPerson)
            throw new InvalidParameterException(
                $"{person.Name} has {person.Faces} registered faces; adding {adding} would pass the limit of {MaxFacesPerPerson} per person.", "image");
    }

    private async Task<List<float[]>> DescriptorsAsync(IReadOnlyList<FaceSample> images, FaceChoice choice, CancellationToken cancellationToken)
    {
        if (images.Count == 0) throw new InvalidParameterException("Send at least one image of the person's face.", "image");
        if (images.Count > MaxImagesPerRequest)
            throw new InvalidParameterException($"Send at most {MaxImagesPerRequest} images per request; got {images.Count}.", "image");
        var descriptors = new List<float[]>(images.Count);
        foreach (var sample in images)
        {
            var faces = (await embedder.EmbedAsync(sample.Image, cancellationToken)).Faces.OrderByDescending(f => f.Box.Area).ToList();
            if (faces.Count == 0) throw new NoFaceFoundException(sample.Field, "nothing was registered");
            var face = choice switch
            {
                { Index: { } index } when index >= faces.Count => throw new FaceIndexOutOfRangeException(sample.Field, index, faces.Count),
                { Index: { } index } => faces[index],
                { Largest: true } => faces[0],
                _ when faces.Count > 1 => throw new SeveralFacesException(sample.Field, faces.Count),
                _ => faces[0],
            };
            descriptors.Add(face.Description.Descriptor);
        }
        return descriptors;
    }

    /// <summary>A person's name: trimmed, 1–100 characters, no control characters.</summary>
    public static string ValidName(string? name, string parameter)
    {
        var trimmed = name?.Trim() ?? "";
        if (trimmed.Length == 0 || trimmed.Length > MaxNameLength || trimmed.Any(char.IsControl))
            throw new InvalidParameterException($"{parameter} must be a person's name of 1–{MaxNameLength} characters without control characters.", parameter);
        return trimmed;
    }

    private async Task EnsureSchemaAsync(CancellationToken cancellationToken)
    {
        if (_ready) return;
        await _schema.WaitAsync(cancellationToken);
        try
        {
            if (_ready) return;
            await store.InitializeAsync(cancellationToken);
            _ready = true;
        }
        finally
        {
            _schema.Release();
        }
    }
}
