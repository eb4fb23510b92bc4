using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using Iris.Configuration;
using Iris.Contracts;
using Iris.Core.Library;
using Iris.Core.Library.People;
using Iris.Core.Tasks;
using Iris.Core.Tasks.Transforms;
using Iris.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.OpenApi;

namespace Iris.Http;

/// <summary>People in the library: faces found at indexing grouped into people, named, merged and split by users.</summary>
public static class PeopleApi
{
    private const int MaxThumbnail = 512;

    public static IEndpointRouteBuilder MapPeopleApi(this IEndpointRouteBuilder app)
    {
        var people = app.MapGroup("/v1/people").WithTags("People");
        people.MapGet("/", ListAsync)
            .WithName("ListLibraryPeople")
            .WithSummary("The people found in the library's photos, with face counts and cover faces")
            .WithDescription("Named people first, then by face count. Each has `face_count`, `image_count`, its `cover` face (image and box) " +
                             "and `thumbnail`, the cover face cropped square (GET it with your credentials).")
            .Produces<LibraryPeopleResponse>();
        people.MapGet("/{id}", GetAsync)
            .WithName("GetLibraryPerson")
            .WithSummary("One person: the images they are in and their faces")
            .WithDescription("`images` newest first with URLs; `faces` with their image, box and `source` (`user`: placed by a merge or split, " +
                             "never moved by clustering; `auto`: placed by clustering). Search their photos with `person={id}` on GET /v1/search.")
            .Produces<LibraryPersonDetailResponse>()
            .ProducesProblem(StatusCodes.Status404NotFound);
        people.MapGet("/{id}/thumbnail", ThumbnailAsync)
            .WithName("GetLibraryPersonThumbnail")
            .WithSummary("The person's cover face, cropped square")
            .WithDescription("The face box widened by 40% each way (kept inside the image) and resized to `size` pixels (default 128, at most 512).")
            .AddOpenApiOperationTransformer(QueryParameters.Describe([new("size", JsonSchemaType.Integer, "Side in pixels, 16–512 (default 128).")]))
            .ProducesProblem(StatusCodes.Status404NotFound);
        people.MapPatch("/{id}", RenameAsync)
            .WithName("RenameLibraryPerson")
            .WithSummary("Name a person (or clear the name with null)")
            .WithDescription("JSON `{\"name\": \"Ada\"}`, at most 100 characters. A named person is never removed or renamed by clustering.")
            .Produces<LibraryPersonResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        people.MapPost("/{id}/merge", MergeAsync)
            .WithName("MergeLibraryPeople")
            .WithSummary("Merge other people into this one")
            .WithDescription("JSON `{\"ids\": [\"…\"]}`: their faces move to this person as placed by you (clustering never moves them again) " +
                             "and the merged people are removed. The person keeps its name, or takes the first merged person's name if it had none.")
            .Produces<LibraryPersonResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        people.MapPost("/{id}/split", SplitAsync)
            .WithName("SplitLibraryPerson")
            .WithSummary("Move faces out of a person into a new one")
            .WithDescription("JSON `{\"face_ids\": [\"…\"], \"name\": \"…\"}` (name optional): the faces form a new person, and never rejoin this " +
                             "one, whatever later clustering finds. Answers 201 with the new person.")
            .Produces<LibraryPersonResponse>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        app.MapPost("/v1/library/people/recluster", ReclusterAsync)
            .WithTags("People")
            .WithName("ReclusterLibraryPeople")
            .WithSummary("Group the library's faces into people now")
            .WithDescription("Runs clustering over all your faces (indexing runs it too, with Library:People:ClusterOnIndex): faces join the nearest " +
                             "person above Library:People:Threshold, and groups of Library:People:MinFaces unassigned faces become new people. " +
                             "Named people are never dissolved or renamed, merges and splits are kept, and two faces of one photo are never one person.")
            .Produces<ReclusterResponse>();
        return app;
    }

    private static async Task<Ok<LibraryPeopleResponse>> ListAsync(LibraryPeople people, ClaimsPrincipal user, CancellationToken cancellationToken) =>
        TypedResults.Ok(new LibraryPeopleResponse((await people.ListAsync(Access.Owner(user), cancellationToken)).Select(LibraryPersonResponse.From).ToList()));

    private static async Task<Ok<LibraryPersonDetailResponse>> GetAsync(
        string id, LibraryPeople people, ClaimsPrincipal user, IrisOptions options, TimeProvider clock, CancellationToken cancellationToken)
    {
        var owner = Access.Owner(user);
        var detail = await people.GetAsync(id, owner, cancellationToken);
        return TypedResults.Ok(new LibraryPersonDetailResponse(
            LibraryPersonResponse.From(detail.Summary),
            detail.ImageIds.Select(i => new LibraryPersonImageResponse(i, ImageUrls.For(i, owner, options, clock))).ToList(),
            detail.Faces.Select(LibraryFaceResponse.From).ToList()));
    }

    private static async Task<IResult> ThumbnailAsync(
        string id, string? size, LibraryPeople people, ImageLibrary library, TransformTask transform, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var side = 128;
        if (size is not null && (!int.TryParse(size, NumberStyles.None, CultureInfo.InvariantCulture, out side) || side is < 16 or > MaxThumbnail))
            throw new InvalidParameterException($"size must be a side in pixels between 16 and {MaxThumbnail}; got '{size}'.", "size");
        var owner = Access.Owner(user);
        var detail = await people.GetAsync(id, owner, cancellationToken);
        if (detail.Summary.Cover is not { } cover) throw new PersonNotFoundException(id);
        var (image, bytes) = await library.ReadAsync(cover.ImageId, owner, cancellationToken);
        var (x, y, w) = Square(cover, image.Fields?.Width ?? 0, image.Fields?.Height ?? 0);
        var ops = FormattableString.Invariant($"crop:x={x},y={y},w={w},h={w};resize:w={side},h={side},fit=cover");
        var result = await transform.RunAsync(transform.Read(ops), bytes, cancellationToken);
        return TypedResults.File(result.Bytes, result.MediaType);
    }

    /// <summary>The face box as a square, 40% wider each way for hair and chin, moved (and shrunk if need be) to stay inside the image.</summary>
    internal static (int X, int Y, int Side) Square(LibraryFace face, int width, int height)
    {
        var box = face.Box;
        var side = Math.Max(box.XMax - box.XMin, box.YMax - box.YMin) * 1.8f;
        if (width > 0 && height > 0) side = Math.Min(side, Math.Min(width, height));
        var x = (box.XMin + box.XMax - side) / 2;
        var y = (box.YMin + box.YMax - side) / 2;
        if (width > 0) x = Math.Clamp(x, 0, width - side);
        if (height > 0) y = Math.Clamp(y, 0, height - side);
        return ((int)Math.Max(0, x), (int)Math.Max(0, y), Math.Max(1, (int)side));
    }

    private static async Task<Ok<LibraryPersonResponse>> RenameAsync(string id, HttpRequest request, LibraryPeople people, CancellationToken cancellationToken)
    {
        using var document = await LibraryApi.ReadJsonAsync(request, cancellationToken);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("name", out var name) || name.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
            throw new InvalidRequestException("The JSON body must be {\"name\": \"…\"} (null clears the name).", "name");
        return TypedResults.Ok(LibraryPersonResponse.From(await people.RenameAsync(id, Access.Owner(request.HttpContext.User), name.GetString(), cancellationToken)));
    }

    private static async Task<Ok<LibraryPersonResponse>> MergeAsync(string id, HttpRequest request, LibraryPeople people, CancellationToken cancellationToken)
    {
        using var document = await LibraryApi.ReadJsonAsync(request, cancellationToken);
        var ids = Strings(document.RootElement, "ids", "The JSON body must be {\"ids\": [\"…\"]}: the people to merge into this one.");
        return TypedResults.Ok(LibraryPersonResponse.From(await people.MergeAsync(id, Access.Owner(request.HttpContext.User), ids, cancellationToken)));
    }

    private static async Task<Created<LibraryPersonResponse>> SplitAsync(string id, HttpRequest request, LibraryPeople people, CancellationToken cancellationToken)
    {
        using var document = await LibraryApi.ReadJsonAsync(request, cancellationToken);
        var root = document.RootElement;
        var faces = Strings(root, "face_ids", "The JSON body must be {\"face_ids\": [\"…\"], \"name\": \"…\"}: the faces to move into a new person.");
        var name = root.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
        var created = await people.SplitAsync(id, Access.Owner(request.HttpContext.User), faces, name, cancellationToken);
        return TypedResults.Created($"/v1/people/{created.Person.Id}", LibraryPersonResponse.From(created));
    }

    private static async Task<Ok<ReclusterResponse>> ReclusterAsync(LibraryPeople people, ClaimsPrincipal user, CancellationToken cancellationToken) =>
        TypedResults.Ok(ReclusterResponse.From(await people.ReclusterAsync(Access.Owner(user), cancellationToken)));

    private static List<string> Strings(JsonElement root, string name, string problem)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty(name, out var array) || array.ValueKind != JsonValueKind.Array
            || array.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
            throw new InvalidRequestException(problem, name);
        return array.EnumerateArray().Select(e => e.GetString()!).ToList();
    }
}
