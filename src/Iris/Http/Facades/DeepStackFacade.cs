using System.Diagnostics;
using System.Globalization;
using System.Security.Claims;
using Iris.Contracts;
using Iris.Core.Detection;
using Iris.Core.Faces;
using Iris.Core.Faces.Recognition;
using Iris.Core.Imaging;
using Iris.Core.Tasks;
using Iris.Core.Tasks.Detection;
using Iris.Core.Tasks.Faces;
using Iris.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Iris.Http.Facades;

/// <summary>
/// The DeepStack / CodeProject.AI Server vision API, so the NVR and home-automation clients written for those servers
/// (Frigate's deepstack detector, Blue Iris, Agent DVR, Home Assistant) switch to Iris by changing the URL. The image
/// comes as multipart field <c>image</c>; <c>min_confidence</c> is a form field (default 0.4); <c>api_key</c> is
/// the caller's API key when Auth is on, and ignored otherwise. Predictions are sorted by confidence, highest first, as those clients expect.
/// </summary>
public static class DeepStackFacade
{
    private const string Prefix = "/v1/vision";
    private const float DefaultMinConfidence = 0.4f;

    public static IEndpointRouteBuilder MapDeepStackFacade(this IEndpointRouteBuilder app)
    {
        var vision = app.MapGroup(Prefix).WithTags("Compatibility: DeepStack / CodeProject.AI").DisableAntiforgery();
        vision.MapPost("/detection", (HttpRequest request, DetectTask task, ImageAnalyzer pipeline, ImageDecoder decoder, CancellationToken ct) =>
                DetectAsync(request, task.Default.Model, task, pipeline, decoder, ct))
            .WithName("DeepStackDetection")
            .WithSummary("Detect objects (DeepStack /v1/vision/detection)")
            .WithDescription("The default detection model (Detection:Model). Answers `{success, predictions: [{label, confidence, x_min, y_min, " +
                             "x_max, y_max}], count, message, processMs, inferenceMs, …}`; errors are problem+json with DeepStack's `success: false` " +
                             "and `error` added.")
            .AddOpenApiOperationTransformer(ImageRequestBody.Describe)
            .AddOpenApiOperationTransformer(Parameters)
            .AsImageRoute();
        vision.MapPost("/custom/{model}", (string model, HttpRequest request, DetectTask task, ImageAnalyzer pipeline, ImageDecoder decoder, CancellationToken ct) =>
                DetectAsync(request, model, task, pipeline, decoder, ct))
            .WithName("DeepStackCustomDetection")
            .WithSummary("Detect objects with a named model (DeepStack /v1/vision/custom/{model})")
            .WithDescription("Any installed `detect` model by name, e.g. a user's own YOLOX manifest; same answer as /v1/vision/detection.")
            .AddOpenApiOperationTransformer(ImageRequestBody.Describe)
            .AddOpenApiOperationTransformer(Parameters)
            .AsImageRoute();
        vision.MapPost("/face", FacesAsync)
            .WithName("DeepStackFace")
            .WithSummary("Detect faces (DeepStack /v1/vision/face)")
            .WithDescription("The default face model (Faces:Model). Predictions carry confidence and box, no label, as in DeepStack.")
            .AddOpenApiOperationTransformer(ImageRequestBody.Describe)
            .AddOpenApiOperationTransformer(Parameters)
            .AsImageRoute();
        MapFaceRecognition(vision);
        return app;
    }

    /// <summary>DeepStack's recognize default: its clients expect 0.67 (DeepStack docs, "Setting Minimum Confidence").</summary>
    private const float RecognizeMinConfidence = 0.67f;

    /// <summary>
    /// DeepStack's face recognition (<c>/v1/vision/face/register|recognize|list|delete|match</c>) over the known-people
    /// registry: a DeepStack <c>userid</c> is a known person's name among the caller's own people (<see cref="Access.Owner"/>).
    /// </summary>
    private static void MapFaceRecognition(RouteGroupBuilder vision)
    {
        vision.MapPost("/face/register", RegisterFaceAsync)
            .WithName("DeepStackFaceRegister")
            .WithSummary("Register a face (DeepStack /v1/vision/face/register)")
            .WithDescription("Form field `userid`, photos as file fields `image` or `image1` … `imageN`. Adds the faces to the known person named " +
                             "`userid` (created when new). Answers `{\"success\": true, \"message\": \"face added\"}`. A photo with no face is a 400; " +
                             "one with several faces is a 400 unless `face_index` (0 = the largest) or `largest=true` says which.");
        vision.MapPost("/face/recognize", RecognizeFacesAsync)
            .WithName("DeepStackFaceRecognize")
            .WithSummary("Recognise faces (DeepStack /v1/vision/face/recognize)")
            .WithDescription("File field `image`, `min_confidence` (default 0.67, DeepStack's). Predictions `{userid, confidence, x_min, y_min, x_max, y_max}`; " +
                             "a face below `min_confidence` is `userid: \"unknown\"` with confidence 0, as DeepStack answers.")
            .AddOpenApiOperationTransformer(ImageRequestBody.Describe)
            .AsImageRoute();
        vision.MapPost("/face/list", ListFacesAsync)
            .WithName("DeepStackFaceList")
            .WithSummary("List registered faces (DeepStack /v1/vision/face/list)")
            .WithDescription("Answers `{\"success\": true, \"faces\": [userid, …]}`.");
        vision.MapPost("/face/delete", DeleteFaceAsync)
            .WithName("DeepStackFaceDelete")
            .WithSummary("Delete a registered face (DeepStack /v1/vision/face/delete)")
            .WithDescription("Form field `userid`. Answers `{\"success\": true, \"message\": \"user deleted successfully\"}`; an unknown userid is a 404.");
        vision.MapPost("/face/match", MatchFacesAsync)
            .WithName("DeepStackFaceMatch")
            .WithSummary("Compare two faces (DeepStack /v1/vision/face/match)")
            .WithDescription("File fields `image1` and `image2`; the largest face of each. Answers `{\"success\": true, \"similarity\": 0.74}`.");
    }

    private static async Task<Ok<DeepStackMessage>> RegisterFaceAsync(HttpRequest request, KnownPeople people, ImageDecoder decoder, ClaimsPrincipal user,
        CancellationToken cancellationToken)
    {
        var (images, parameters) = await KnownPeopleApi.ReadPhotosAsync(request, decoder, cancellationToken);
        // DeepStack's own words for a missing userid.
        if (parameters.String("userid") is not { } userid) throw new InvalidRequestException("user id not specified", "userid");
        await people.RegisterAsync(Access.Owner(user), KnownPeople.ValidName(userid, "userid"), images, KnownPeopleApi.Choice(parameters), addToExisting: true, cancellationToken);
        return TypedResults.Ok(new DeepStackMessage(true, "face added"));
    }

    private static async Task<Ok<DeepStackRecognition>> RecognizeFacesAsync(HttpRequest request, KnownPeople people, ImageDecoder decoder, ClaimsPrincipal user,
        CancellationToken cancellationToken)
    {
        var total = Stopwatch.StartNew();
        var upload = await ImageUpload.ReadAsync(request, decoder.Limits, cancellationToken);
        var minConfidence = upload.Parameters(request).Float("min_confidence", RecognizeMinConfidence, 0f, 1f);
        var recognition = await people.RecognizeAsync(Access.Owner(user), upload.Bytes, minConfidence, cancellationToken);
        var predictions = recognition.Faces.Select(f =>
        {
            var box = DeepStackPrediction.From(null, 0, f.Face.Box);
            return f.Person is { } person
                ? new DeepStackRecognizedFace(person.Name, MathF.Round(f.Similarity, 5), box.XMin, box.YMin, box.XMax, box.YMax)
                : new DeepStackRecognizedFace("unknown", 0, box.XMin, box.YMin, box.XMax, box.YMax);
        }).OrderByDescending(p => p.Confidence).ToList();
        var known = predictions.Where(p => p.UserId != "unknown").Select(p => p.UserId).ToList();
        var message = predictions.Count == 0 ? "No faces found"
            : known.Count == 0 ? $"Found {predictions.Count} unknown face{(predictions.Count == 1 ? "" : "s")}"
            : "Found " + string.Join(", ", known);
        var timings = recognition.Image.Timings;
        return TypedResults.Ok(new DeepStackRecognition(true, message, predictions.Count, predictions,
            (long)Math.Round(total.Elapsed.TotalMilliseconds), (long)Math.Round(timings.DetectMs + timings.InferenceMs)));
    }

    private static async Task<Ok<DeepStackFaceList>> ListFacesAsync(KnownPeople people, ClaimsPrincipal user, CancellationToken cancellationToken) =>
        TypedResults.Ok(new DeepStackFaceList(true, (await people.ListAsync(Access.Owner(user), cancellationToken)).Select(p => p.Name).ToList()));

    private static async Task<Ok<DeepStackMessage>> DeleteFaceAsync(HttpRequest request, KnownPeople people, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var form = request.HasFormContentType ? await ImageUpload.ReadFormOrRefuseAsync(request, cancellationToken) : null;
        var userid = request.Query["userid"].ToString() is { Length: > 0 } query ? query : form?["userid"].ToString() ?? "";
        if (userid.Length == 0) throw new InvalidRequestException("user id not specified", "userid");
        await people.DeleteAsync(Access.Owner(user), userid.Trim(), cancellationToken);
        return TypedResults.Ok(new DeepStackMessage(true, "user deleted successfully"));
    }

    private static async Task<Ok<DeepStackFaceMatch>> MatchFacesAsync(HttpRequest request, KnownPeople people, ImageDecoder decoder, CancellationToken cancellationToken)
    {
        var (first, second, _) = await KnownPeopleApi.ReadPairAsync(request, decoder, cancellationToken);
        var match = await people.MatchAsync(first, second, cancellationToken);
        return TypedResults.Ok(new DeepStackFaceMatch(true, MathF.Round(match.Similarity, 5)));
    }

    /// <summary>DeepStack clients test <c>success</c> and show <c>error</c>: both are added to every problem of these routes.</summary>
    public static void AddClientErrorFields(HttpContext context, ProblemDetails problem)
    {
        if (!context.Request.Path.StartsWithSegments(Prefix)) return;
        problem.Extensions["success"] = false;
        problem.Extensions["error"] = problem.Detail;
        problem.Extensions["code"] = problem.Status;
    }

    private static readonly Func<OpenApiOperation, OpenApiOperationTransformerContext, CancellationToken, Task> Parameters = QueryParameters.Describe(
        new("min_confidence", JsonSchemaType.Number, "Drop predictions below this confidence, 0–1 (default 0.4); also read from the form."),
        new("api_key", JsonSchemaType.String, "The API key, for DeepStack clients, when Auth:ApiKeys is configured; ignored otherwise."));

    private static async Task<Ok<DeepStackResponse>> DetectAsync(
        HttpRequest request, string modelName, DetectTask task, ImageAnalyzer pipeline, ImageDecoder decoder, CancellationToken cancellationToken)
    {
        var total = Stopwatch.StartNew();
        var upload = await ImageUpload.ReadAsync(request, decoder.Limits, cancellationToken);
        var parameters = new DetectTask.Parameters(modelName, new DetectionParameters(MinConfidence(upload, request), DetectTask.MaxDetectionsLimit));
        var result = (await pipeline.RunAsync(task, parameters, upload.Bytes, cancellationToken)).Result;
        var predictions = result.Objects.OrderByDescending(o => o.Confidence)
            .Select(o => DeepStackPrediction.From(o.Label, o.Confidence, o.Box)).ToList();
        var message = predictions.Count == 0 ? "No objects found" : "Found " + string.Join(", ", predictions.Select(p => p.Label).Distinct());
        return TypedResults.Ok(Response(request, predictions, message, "detect", result.Model, result.Timings.InferenceMs,
            result.Timings.PreprocessMs + result.Timings.InferenceMs + result.Timings.PostprocessMs, total));
    }

    private static async Task<Ok<DeepStackResponse>> FacesAsync(
        HttpRequest request, FacesTask task, ImageAnalyzer pipeline, ImageDecoder decoder, CancellationToken cancellationToken)
    {
        var total = Stopwatch.StartNew();
        var upload = await ImageUpload.ReadAsync(request, decoder.Limits, cancellationToken);
        var parameters = new FacesTask.Parameters(task.Default.Model, new FaceDetectionParameters(MinConfidence(upload, request), FacesTask.MaxFacesLimit));
        var result = (await pipeline.RunAsync(task, parameters, upload.Bytes, cancellationToken)).Result;
        var predictions = result.Faces.OrderByDescending(f => f.Confidence)
            .Select(f => DeepStackPrediction.From(null, f.Confidence, f.Box)).ToList();
        var message = predictions.Count == 0 ? "No faces found" : $"Found {predictions.Count} face{(predictions.Count == 1 ? "" : "s")}";
        return TypedResults.Ok(Response(request, predictions, message, "detect-faces", result.Model, result.Timings.InferenceMs,
            result.Timings.PreprocessMs + result.Timings.InferenceMs + result.Timings.PostprocessMs, total));
    }

    /// <summary>DeepStack's own default, not Detection:MinConfidence: its clients expect 0.4 whatever the server's setting.</summary>
    private static float MinConfidence(ImageUpload upload, HttpRequest request) =>
        upload.Parameters(request).Float("min_confidence", DefaultMinConfidence, 0f, 1f);

    private static DeepStackResponse Response(HttpRequest request, List<DeepStackPrediction> predictions, string message, string command,
        string model, double inferenceMs, double processMs, Stopwatch total) =>
        new(true, message, predictions.Count, predictions,
            (long)Math.Round(processMs), (long)Math.Round(inferenceMs), (long)Math.Round(total.Elapsed.TotalMilliseconds),
            "iris-" + model, $"Iris ({model})", command, 200, request.HttpContext.TraceIdentifier, "CPU", "iris",
            DateTimeOffset.UtcNow.ToString("r", CultureInfo.InvariantCulture));
}
