using Iris.Core.Library.People;

namespace Iris.Contracts;

/// <summary>GET /v1/people: named people first, then by face count.</summary>
public sealed record LibraryPeopleResponse(IReadOnlyList<LibraryPersonResponse> People);

/// <summary>A face: its image, its box in the image's pixels, and whether a user placed it (<c>user</c>) or clustering did (<c>auto</c>).</summary>
public sealed record LibraryFaceResponse(string FaceId, string ImageId, BoxDto Box, float Confidence, string Source)
{
    public static LibraryFaceResponse From(LibraryFace face) => new(
        face.Id, face.ImageId, new BoxDto(face.Box.XMin, face.Box.YMin, face.Box.XMax, face.Box.YMax), face.Confidence,
        face.Source.ToString().ToLowerInvariant());
}

/// <param name="Name">Null until a user names the person (PATCH /v1/people/{id}).</param>
/// <param name="Thumbnail">The cover face, cropped square: GET it with the caller's credentials.</param>
public sealed record LibraryPersonResponse(
    string PersonId, string? Name, int FaceCount, int ImageCount, LibraryFaceResponse? Cover, string? Thumbnail, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static LibraryPersonResponse From(PersonSummary summary) => new(
        summary.Person.Id, summary.Person.Name, summary.FaceCount, summary.ImageCount,
        summary.Cover is { } cover ? LibraryFaceResponse.From(cover) : null,
        summary.Cover is null ? null : $"/v1/people/{summary.Person.Id}/thumbnail",
        summary.Person.CreatedAt, summary.Person.UpdatedAt);
}

/// <summary>GET /v1/people/{id}: the person, the images they are in (newest first, with URLs) and their faces.</summary>
public sealed record LibraryPersonDetailResponse(LibraryPersonResponse Person, IReadOnlyList<LibraryPersonImageResponse> Images, IReadOnlyList<LibraryFaceResponse> Faces);

public sealed record LibraryPersonImageResponse(string ImageId, string Url);

/// <summary>POST /v1/library/people/recluster: what the pass changed.</summary>
public sealed record ReclusterResponse(int People, int Created, int Removed, int Assigned, int Unassigned)
{
    public static ReclusterResponse From(ClusteringPlan plan) => new(plan.People, plan.Created, plan.Removed, plan.Assigned, plan.Unassigned);
}
