namespace Iris.Core.Faces.Recognition;

/// <summary>A person the registry knows: the name callers gave (DeepStack's <c>userid</c>) and how many face descriptors stand for them.</summary>
public sealed record KnownPerson(Guid Id, string Name, int Faces, DateTimeOffset CreatedAt);

/// <summary>One registered face of a person: its L2-normalised descriptor and the embedder that made it.</summary>
public sealed record KnownFace(Guid PersonId, string Name, string Model, float[] Descriptor);

/// <summary>An image given to register a person, with the name of the field it came in (for errors that say which image).</summary>
public sealed record FaceSample(string Field, byte[] Image);

/// <summary>
/// Which face of a registration image stands for the person: the only one (neither set), the one at
/// <see cref="Index"/> (0 = the largest, by box area), or the largest one.
/// </summary>
public sealed record FaceChoice(int? Index = null, bool Largest = false)
{
    public static FaceChoice Only { get; } = new();
}

/// <summary>An image in which the detector found no face, where one was needed (to register, to match): nothing was done.</summary>
public sealed class NoFaceFoundException(string field, string consequence)
    : Exception($"No face was found in '{field}'; {consequence}. Send a photo where the face is clearly visible (at least about 40 pixels wide).")
{
    public string Field { get; } = field;
}

/// <summary>A registration image with several faces and no say which: refused rather than guessed.</summary>
public sealed class SeveralFacesException(string field, int count)
    : Exception($"'{field}' shows {count} faces; say which one is the person with face_index (0 = the largest, 1 = the next, …) or largest=true. Nothing was registered.")
{
    public string Field { get; } = field;
}

/// <summary>face_index named a face the image does not have.</summary>
public sealed class FaceIndexOutOfRangeException(string field, int index, int count)
    : Exception($"face_index is {index} but '{field}' shows {count} face{(count == 1 ? "" : "s")} (face_index counts from 0, largest first).")
{
    public string Field { get; } = field;
}

/// <summary>No known person of the caller has this id or name: 404.</summary>
public sealed class UnknownPersonException(string person)
    : Exception($"No known person is '{person}'. GET /v1/faces/people lists them.");

/// <summary>Another known person of the same owner already has this name (names identify people for DeepStack's clients): 409.</summary>
public sealed class PersonNameTakenException(string name)
    : Exception($"Another known person is already named '{name}'; names are unique per owner. Rename or delete that person first.");
