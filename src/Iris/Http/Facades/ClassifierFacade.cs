using Iris.Contracts;
using Iris.Configuration;
using Iris.Core.Classification;
using Iris.Core.Imaging;
using Iris.Core.Models;
using Iris.Core.Predictions;
using Iris.Core.Tasks;
using Iris.Core.Tasks.Classification;
using Iris.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.OpenApi;

namespace Iris.Http.Facades;

/// <summary>
/// The classifier service's inference route (seed 004, "RottenBot"), so its clients switch to Iris by changing the URL:
/// multipart field <c>file</c>, query <c>user_uid</c> (a UUID, required) and <c>save_prediction</c> (a FastAPI boolean,
/// false when absent). The image runs through <see cref="ClassifyTask"/> with the configured classifier
/// (Predictions:Model, else Classification:Model) and its class map; the best class answers. With
/// <c>save_prediction=true</c> the prediction is written to the history's outbox before the answer, and archived in the
/// background (<see cref="PredictionHistory"/>). Its errors are the old ones: 400 for anything but JPEG or PNG, 401
/// "Not authenticated", 422 in FastAPI's shape, and 500 "Ooops! Something went wrong during prediction.".
/// </summary>
public static class ClassifierFacade
{
    private const string Prefix = "/api/v1/inference";
    public const string FailureDetail = "Ooops! Something went wrong during prediction.";

    private static readonly string[] DeclaredImageTypes = ["image/jpeg", "image/png", "image/jpg"];

    public static IEndpointRouteBuilder MapClassifierFacade(this IEndpointRouteBuilder app)
    {
        app.MapPost(Prefix + "/predict", PredictAsync)
            .WithName("InferencePredict")
            .WithTags("Compatibility: classifier service")
            .WithSummary("Classify an image (the classifier service's /api/v1/inference/predict)")
            .WithDescription(
                "Multipart field `file` (JPEG or PNG, recognised by content); query `user_uid` (UUID, required) and `save_prediction` " +
                "(default false). Answers `{predicted_class, predicted_class_name, confidence}`: the best class of Predictions:Model " +
                "(default Classification:Model) and its index in the model's class map. With `save_prediction=true` the prediction and " +
                "the image are saved (listed by GET /v1/predictions) once the answer is sent; a crash after the answer loses neither.")
            .WithMetadata(new ChallengeDetail("Not authenticated"))
            .DisableAntiforgery()
            .AddOpenApiOperationTransformer(ImageRequestBody.Describe)
            .AddOpenApiOperationTransformer(QueryParameters.Describe(
                new("user_uid", JsonSchemaType.String, "The user the prediction is for (a UUID); required, as in the classifier service."),
                new("save_prediction", JsonSchemaType.Boolean, "Save the prediction and archive the image (default false).")))
            .Produces<InferencePredictResponse>(StatusCodes.Status200OK)
            .Produces<FastApiValidationProblem>(StatusCodes.Status422UnprocessableEntity, "application/problem+json")
            .AsImageRoute();
        return app;
    }

    /// <summary>
    /// The old service's answer to anything that went wrong on the server: 500 with its message, and nothing of the
    /// cause (the request id finds it in the log). 503 keeps its status and Retry-After: retrying is the right move.
    /// The caller names no model here, so a Predictions:Model that is unknown or not a classifier is the server's fault too.
    /// </summary>
    public static void UseSeedFailureMessage(HttpContext context, ProblemDetails problem, Exception? exception)
    {
        if (!context.Request.Path.StartsWithSegments(Prefix)) return;
        if (exception is ModelNotFoundException or ModelTaskMismatchException) problem.Status = StatusCodes.Status500InternalServerError;
        if (problem.Status is not >= 500) return;
        problem.Detail = FailureDetail;
        if (problem.Status == StatusCodes.Status503ServiceUnavailable) return;
        problem.Status = context.Response.StatusCode = StatusCodes.Status500InternalServerError;
        problem.Title = "Internal server error";
        problem.Type = "https://iris.dev/problems/internal-server-error";
    }

    private static async Task<Results<Ok<InferencePredictResponse>, JsonHttpResult<FastApiValidationProblem>>> PredictAsync(
        HttpRequest request, ClassifyTask classify, ImageAnalyzer pipeline, ImageDecoder decoder, PredictionHistory history, IrisOptions options,
        CancellationToken cancellationToken)
    {
        var form = request.HasFormContentType ? await ImageUpload.ReadFormOrRefuseAsync(request, cancellationToken) : null;
        var (userUid, save, errors) = ReadQuery(request.Query);
        if (form?.Files.GetFile("file") is null)
            errors.Add(new FastApiValidationError("missing", ["body", "file"], "Field required", null));
        if (errors.Count > 0)
            return TypedResults.Json(new FastApiValidationProblem("https://iris.dev/problems/validation-error", "Validation error", 422, errors,
                request.Path, request.HttpContext.TraceIdentifier), statusCode: 422, contentType: "application/problem+json");

        var upload = await ImageUpload.ReadAsync(request, decoder.Limits, cancellationToken);
        if (PredictionImages.Extension(upload.Bytes) is null)
            throw new InvalidRequestException(
                $"Invalid file type. Only JPEG, JPG, and PNG are supported. Got {NotAcceptedType(form!.Files.GetFile("file")!.ContentType, upload.Bytes)}", "file");
        var model = options.Predictions.Model.Length > 0 ? options.Predictions.Model : classify.Default.Model;
        var run = await pipeline.RunAsync(classify, new ClassifyTask.Parameters(model, new ClassificationParameters(1, 0f)), upload.Bytes, cancellationToken);
        var top = run.Result.Predictions[0];
        if (save)
            await history.SaveAsync(top, upload.Bytes, userUid!.Value, Access.Owner(request.HttpContext.User), cancellationToken);
        return TypedResults.Ok(InferencePredictResponse.From(top));
    }

    /// <summary>
    /// The type the message names: the one the client declared, as the old service said; but when the client declared
    /// JPEG or PNG for something else, what the bytes are, so the message does not name an accepted type.
    /// </summary>
    private static string NotAcceptedType(string? declared, byte[] bytes) =>
        declared is { Length: > 0 } && !DeclaredImageTypes.Contains(declared, StringComparer.OrdinalIgnoreCase)
            ? declared
            : ImageFormatSniffer.Sniff(bytes)?.MediaType() ?? "a file that is not an image";

    private static (Guid? UserUid, bool Save, List<FastApiValidationError> Errors) ReadQuery(IQueryCollection query)
    {
        var errors = new List<FastApiValidationError>();
        Guid? userUid = null;
        if (!query.TryGetValue("user_uid", out var uidText))
            errors.Add(new FastApiValidationError("missing", ["query", "user_uid"], "Field required", null));
        else if (Guid.TryParse(uidText.ToString(), out var parsed))
            userUid = parsed;
        else
            errors.Add(new FastApiValidationError("uuid_parsing", ["query", "user_uid"], "Input should be a valid UUID", uidText.ToString()));

        var save = false;
        if (query.TryGetValue("save_prediction", out var saveText))
        {
            // Pydantic's boolean words.
            switch (saveText.ToString().ToLowerInvariant())
            {
                case "1" or "on" or "t" or "true" or "y" or "yes": save = true; break;
                case "0" or "off" or "f" or "false" or "n" or "no": break;
                default:
                    errors.Add(new FastApiValidationError("bool_parsing", ["query", "save_prediction"],
                        "Input should be a valid boolean, unable to interpret input", saveText.ToString()));
                    break;
            }
        }
        return (userUid, save, errors);
    }
}
