using System.Diagnostics;
using System.Security.Claims;
using System.Text.RegularExpressions;
using Iris.Contracts;
using Iris.Core.Faces.Recognition;
using Iris.Core.Imaging;
using Iris.Core.Tasks;
using Iris.Core.Tasks.Faces;
using Iris.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Iris.Http;

/// <summary>
/// Face recognition under <c>/v1/faces/…</c>: descriptors of the faces in an image, the registry of known people
/// (register, list, rename, delete, add photos), recognition and one-to-one match. Face detection itself is
/// <c>POST /v1/faces</c> (<see cref="FacesApi"/>). Known people are the caller's own (<see cref="Access.Owner"/>), like jobs
/// and the library.
/// </summary>
public static partial class KnownPeopleApi
{
    public static IEndpointRouteBuilder MapKnownPeopleApi(this IEndpointRouteBuilder app)
    {
        var faces = app.MapGroup("/v1/faces").WithTags("Faces").DisableAntiforgery();
        faces.MapPost("/embed", EmbedAsync)
            .WithName("FaceEmbed")
            .WithSummary("Faces with identity descriptors, age and gender")
            .WithDescription("Send the image as for /v1/faces. Each face found by `detector` (default Faces:Model) is cropped square around its box " +
                             "with a 10% margin, resized to 224² and described by `model` (default Faces:EmbedModel, `faceres`): an L2-normalised " +
                             "1024-d `descriptor` (cosine similarity = dot product), `age` in years and `gender`. Parameters `min_confidence`, `max_faces` as for /v1/faces.")
            .AddOpenApiOperationTransformer(ImageRequestBody.Describe)
            .AsImageRoute();
        faces.MapPost("/people", RegisterAsync)
            .WithName("RegisterPerson")
            .WithSummary("Register a known person from one or more photos")
            .WithDescription("multipart/form-data: `name`, and the photos as file fields `image` (repeatable) or `image1` … `imageN`, one face each. " +
                             "A photo with no face is a 400 and registers nothing; a photo with several faces is a 400 unless `face_index` (0 = the largest) " +
                             "or `largest=true` says which. A name already taken is a 409 (POST /v1/faces/people/{id}/faces adds photos).");
        faces.MapGet("/people", ListAsync)
            .WithName("ListPeople")
            .WithSummary("List the known people");
        faces.MapGet("/people/{id}", GetAsync)
            .WithName("GetPerson")
            .WithSummary("One known person");
        faces.MapPatch("/people/{id}", RenameAsync)
            .WithName("RenamePerson")
            .WithSummary("Rename a known person")
            .WithDescription("JSON body `{\"name\": \"…\"}`; a name another person has is a 409.");
        faces.MapDelete("/people/{id}", DeleteAsync)
            .WithName("DeletePerson")
            .WithSummary("Forget a known person and their faces");
        faces.MapPost("/people/{id}/faces", AddFacesAsync)
            .WithName("AddPersonFaces")
            .WithSummary("Add photos of a known person")
            .WithDescription("As registration: file fields `image` or `image1` … `imageN`, `face_index` or `largest=true` for group photos.");
        faces.MapPost("/recognize", RecognizeAsync)
            .WithName("RecognizeFaces")
            .WithSummary("Name the known people in a photo")
            .WithDescription("Send the image as for /v1/faces. Each face is the known person whose registered face is most similar, when that cosine " +
                             "similarity reaches `threshold` (default Faces:RecognitionThreshold, 0.7), else `unknown`; a person is given to one face per photo.")
            .AddOpenApiOperationTransformer(ImageRequestBody.Describe)
            .AsImageRoute();
        faces.MapPost("/match", MatchAsync)
            .WithName("MatchFaces")
            .WithSummary("How similar the faces of two photos are")
            .WithDescription("multipart/form-data file fields `image1` and `image2`; the largest face of each is compared. Answers `similarity` (cosine) " +
                             "and `same_person` (similarity ≥ `threshold`, default Faces:RecognitionThreshold).");
        return app;
    }

    private static async Task<Ok<FaceEmbeddingResponse>> EmbedAsync(
        HttpRequest request, FaceEmbedTask task, ImageAnalyzer pipeline, ImageDecoder decoder, CancellationToken cancellationToken)
    {
        var total = Stopwatch.StartNew();
        var upload = await ImageUpload.ReadAsync(request, decoder.Limits, cancellationToken);
        var run = await pipeline.RunAsync(task, task.Read(upload.Parameters(request)), upload.Bytes, cancellationToken);
        return TypedResults.Ok(FaceEmbeddingResponse.From(run.Result, run.DecodeMs, total.Elapsed.TotalMilliseconds));
    }

    private static async Task<Created<PersonDto>> RegisterAsync(HttpRequest request, KnownPeople people, ImageDecoder decoder, ClaimsPrincipal user,
        CancellationToken cancellationToken)
    {
        var (images, parameters) = await ReadPhotosAsync(request, decoder, cancellationToken);
        var person = await people.RegisterAsync(Access.Owner(user), KnownPeople.ValidName(parameters.String("name"), "name"), images, Choice(parameters),
            addToExisting: false, cancellationToken);
        return TypedResults.Created($"/v1/faces/people/{person.Id}", PersonDto.From(person));
    }

    private static async Task<Ok<KnownPeopleResponse>> ListAsync(KnownPeople people, ClaimsPrincipal user, CancellationToken cancellationToken) =>
        TypedResults.Ok(new KnownPeopleResponse((await people.ListAsync(Access.Owner(user), cancellationToken)).Select(PersonDto.From).ToList()));

    private static async Task<Ok<PersonDto>> GetAsync(string id, KnownPeople people, ClaimsPrincipal user, CancellationToken cancellationToken) =>
        TypedResults.Ok(PersonDto.From(await people.GetAsync(Access.Owner(user), PersonId(id), cancellationToken)));

    private static async Task<Ok<PersonDto>> RenameAsync(string id, RenamePersonRequest body, KnownPeople people, ClaimsPrincipal user,
        CancellationToken cancellationToken) =>
        TypedResults.Ok(PersonDto.From(await people.RenameAsync(Access.Owner(user), PersonId(id), body.Name ?? "", cancellationToken)));

    private static async Task<NoContent> DeleteAsync(string id, KnownPeople people, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        await people.DeleteAsync(Access.Owner(user), PersonId(id), cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<PersonDto>> AddFacesAsync(string id, HttpRequest request, KnownPeople people, ImageDecoder decoder, ClaimsPrincipal user,
        CancellationToken cancellationToken)
    {
        var person = PersonId(id);
        var (images, parameters) = await ReadPhotosAsync(request, decoder, cancellationToken);
        return TypedResults.Ok(PersonDto.From(await people.AddFacesAsync(Access.Owner(user), person, images, Choice(parameters), cancellationToken)));
    }

    private static async Task<Ok<RecognitionResponse>> RecognizeAsync(HttpRequest request, KnownPeople people, ImageDecoder decoder, ClaimsPrincipal user,
        CancellationToken cancellationToken)
    {
        var upload = await ImageUpload.ReadAsync(request, decoder.Limits, cancellationToken);
        var threshold = upload.Parameters(request).Float("threshold", people.DefaultThreshold, 0f, 1f);
        return TypedResults.Ok(RecognitionResponse.From(await people.RecognizeAsync(Access.Owner(user), upload.Bytes, threshold, cancellationToken)));
    }

    private static async Task<Ok<FaceMatchResponse>> MatchAsync(HttpRequest request, KnownPeople people, ImageDecoder decoder, CancellationToken cancellationToken)
    {
        var (first, second, parameters) = await ReadPairAsync(request, decoder, cancellationToken);
        var threshold = parameters.Float("threshold", people.DefaultThreshold, 0f, 1f);
        return TypedResults.Ok(FaceMatchResponse.From(await people.MatchAsync(first, second, cancellationToken), threshold));
    }

    /// <summary>The photos of a registration: file fields <c>image</c> (repeatable) and <c>image1</c> … <c>imageN</c>, and the form's parameters.</summary>
    public static async Task<(IReadOnlyList<FaceSample> Images, ParameterReader Parameters)> ReadPhotosAsync(
        HttpRequest request, ImageDecoder decoder, CancellationToken cancellationToken)
    {
        var (files, form) = await ImageUpload.ReadFilesAsync(request, decoder.Limits, name => PhotoField().IsMatch(name), "image, or image1 … imageN", cancellationToken);
        if (files.Count == 0)
            throw new InvalidRequestException("No photo was sent: add the face photos as file fields 'image' or 'image1' … 'imageN'.", "image");
        return (files.Select(f => new FaceSample(f.Field, f.Bytes)).ToList(), Parameters(request, form));
    }

    /// <summary>The two photos of a match: file fields <c>image1</c> and <c>image2</c>.</summary>
    public static async Task<(FaceSample First, FaceSample Second, ParameterReader Parameters)> ReadPairAsync(
        HttpRequest request, ImageDecoder decoder, CancellationToken cancellationToken)
    {
        var (files, form) = await ImageUpload.ReadFilesAsync(request, decoder.Limits, name => name is "image1" or "image2", "image1 and image2", cancellationToken);
        var first = files.FirstOrDefault(f => f.Field == "image1");
        var second = files.FirstOrDefault(f => f.Field == "image2");
        if (first.Bytes is null || second.Bytes is null)
            throw new InvalidRequestException("Send two photos as file fields 'image1' and 'image2'.", first.Bytes is null ? "image1" : "image2");
        return (new FaceSample("image1", first.Bytes), new FaceSample("image2", second.Bytes), Parameters(request, form));
    }

    public static FaceChoice Choice(ParameterReader parameters) =>
        new(parameters.IntOrNull("face_index", 0, 1000), parameters.Bool("largest", false));

    private static ParameterReader Parameters(HttpRequest request, IFormCollection form) => new(name =>
        request.Query[name].ToString() is { Length: > 0 } query ? query : form[name].ToString() is { Length: > 0 } field ? field : null);

    private static Guid PersonId(string id) => Guid.TryParse(id, out var guid) ? guid : throw new UnknownPersonException(id);

    [GeneratedRegex("^image[0-9]*$")]
    private static partial Regex PhotoField();
}
