using Iris.Core.Imaging;
using Iris.Core.Jobs;
using Iris.Core.Models;
using Iris.Core.Sources;
using Iris.Core.Storage;
using Iris.Core.Tasks;
using Iris.Core.Transforms;
using Iris.Http.Facades;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace Iris.Http;

/// <summary>The one place where domain exceptions become RFC 7807 problem+json responses.</summary>
public sealed class ProblemDetailsMapping(IProblemDetailsService problems, ILogger<ProblemDetailsMapping> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        // A facade keeps its old service's status codes for what that service refused.
        var facade = CaptionServiceFacade.Classify(context.Request, exception);
        var (status, title) = facade is not null ? (facade.Status, facade.Title) : Classify(exception, IsJobSubmission(context.Request));
        if (status >= 500)
            logger.LogError(exception, "Unhandled error on {Path}", context.Request.Path);
        var problem = new ProblemDetails
        {
            Status = status,
            Title = title,
            Detail = facade?.Detail ?? (status >= 500 && status is not (503 or 507) ? "An unexpected error occurred; the request id identifies it in the server log." : exception.Message),
            Type = $"https://iris.dev/problems/{Slug(title)}",
        };
        if (facade?.Parameter is { } facadeParameter)
            problem.Extensions["parameter"] = facadeParameter;
        if (exception is Microsoft.Data.Sqlite.SqliteException { SqliteErrorCode: 13 })
            problem.Detail = "The job database has no space left (Jobs:Database); free space on its disk or point Jobs:Database at a larger one.";
        if (exception is Iris.Core.Faces.Recognition.NoFaceFoundException noFace) problem.Extensions["parameter"] = noFace.Field;
        if (exception is Iris.Core.Faces.Recognition.SeveralFacesException severalFaces) problem.Extensions["parameter"] = severalFaces.Field;
        if (exception is InvalidRequestException { Field: { } field })
            problem.Extensions["parameter"] = field;
        if (exception is RequestValidationException invalidField)
            problem.Extensions["parameter"] = invalidField.Field;
        if (exception is InvalidParameterException badParameter)
            problem.Extensions["parameter"] = badParameter.Parameter;
        if (exception is OutputTooLargeException tooLarge) problem.Extensions["parameter"] = tooLarge.Parameter;
        if (exception is OutputFormatUnsupportedException format) problem.Extensions["parameter"] = format.Parameter;
        if (exception is InvalidJobRequestException { Parameter: { } jobParameter })
            problem.Extensions["parameter"] = jobParameter;
        if (exception is JobQueueFullException full)
            context.Response.Headers.RetryAfter = ((int)Math.Ceiling(full.RetryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (exception is Iris.Core.Inference.InferenceOverloadedException busy)
            context.Response.Headers.RetryAfter = ((int)Math.Ceiling(busy.RetryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        else if (exception is ServerBusyException serverBusy)
            context.Response.Headers.RetryAfter = ((int)Math.Ceiling(serverBusy.RetryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        else if (status == 503)
            context.Response.Headers.RetryAfter = "5";
        if (exception is Iris.Core.Inference.Batching.BatchQueueFullException batchFull)
            context.Response.Headers.RetryAfter = ((int)Math.Ceiling(batchFull.RetryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem, Exception = exception });
    }

    /// <summary>
    /// A job submission's problems have always been titled "Invalid job request", whichever part of it was wrong; the
    /// same bad parameter elsewhere is an "Invalid request" (or an "Unknown task" for <c>tasks</c>).
    /// </summary>
    private static bool IsJobSubmission(HttpRequest request) =>
        HttpMethods.IsPost(request.Method) && (request.Path.StartsWithSegments("/v1/jobs") || request.Path.StartsWithSegments("/api/v1/submit"));

    public static (int Status, string Title) Classify(Exception exception, bool jobSubmission = false) => exception switch
    {
        InvalidParameterException when jobSubmission => (400, "Invalid job request"),
        Facades.MissingQueryParameterException => (422, "Missing parameter"),
        InvalidRequestException => (400, "Invalid request"),
        RequestValidationException => (422, "Validation error"),
        UnknownTaskException => (400, "Unknown task"),
        InvalidTransformException => (400, "Invalid transform"),
        InvalidParameterException => (400, "Invalid request"),
        OutputTooLargeException => (400, "Output too large"),
        OutputFormatUnsupportedException => (400, "Output format not supported"),
        UrlSignatureException => (403, "Invalid signature"),
        SourceNotAllowedException => (403, "Source not allowed"),
        BlobNotFoundException => (404, "Image not found"),
        Iris.Core.Transforms.Imgproxy.ImgproxyUrlExpiredException => (404, "URL expired"),
        Iris.Core.Library.LibraryImageNotFoundException => (404, "Image not found"),
        Iris.Core.Library.UnknownCollectionException => (404, "Collection not found"),
        Iris.Core.Library.People.PersonNotFoundException => (404, "Person not found"),
        Iris.Core.Library.EmbeddingSpaceMismatchException => (409, "Embedding space mismatch"),
        Iris.Core.Library.LibraryImageOwnedException => (409, "Image owned by another caller"),
        Iris.Core.Library.Vectors.InvalidVectorException => (400, "Invalid vector"),
        Iris.Core.Faces.Recognition.NoFaceFoundException => (400, "No face found"),
        Iris.Core.Faces.Recognition.SeveralFacesException => (400, "Several faces"),
        Iris.Core.Faces.Recognition.FaceIndexOutOfRangeException => (400, "No such face"),
        Iris.Core.Faces.Recognition.UnknownPersonException => (404, "Person not found"),
        Iris.Core.Faces.Recognition.PersonNameTakenException => (409, "Person name taken"),
        SourceFetchException { Status: 404 } => (404, "Source not found"),
        SourceFetchException { Status: 504 } => (504, "Source timed out"),
        SourceFetchException => (502, "Source fetch failed"),
        TooManyFramesException => (413, "Too many frames"),
        TransformTimeoutException => (422, "Transform timed out"),
        EmptyImageException => (400, "No image"),
        ModelNotFoundException => (400, "Unknown model"),
        ModelTaskMismatchException => (400, "Wrong kind of model"),
        Iris.Core.Embeddings.EmbeddingInputNotSupportedException => (400, "Input not supported by model"),
        ImageTooLargeException or ImageDimensionsTooLargeException => (413, "Image too large"),
        UnsupportedImageFormatException => (415, "Unsupported image format"),
        CorruptImageException => (422, "Corrupt image"),
        ImageDecodeTimeoutException => (422, "Image decode timed out"),
        ImageTooComplexException => (422, "Image too complex"),
        ModelNotReadyException => (503, "Model not ready"),
        DecodeCapacityExceededException => (503, "Server busy"),
        ServerBusyException => (503, "Server busy"),
        Iris.Core.Inference.InferenceOverloadedException => (503, "Model busy"),
        Iris.Core.Inference.Batching.BatchQueueFullException => (503, "Model busy"),
        StorageUnavailableException => (503, "Storage unavailable"),
        StorageFullException => (507, "Insufficient storage"),
        // SQLITE_FULL: only the job database is SQLite.
        Microsoft.Data.Sqlite.SqliteException { SqliteErrorCode: 13 } => (507, "Insufficient storage"),
        InvalidJobRequestException => (400, "Invalid job request"),
        JobNotFoundException => (404, "Job not found"),
        JobStateConflictException => (409, "Job state conflict"),
        JobQueueFullException => (429, "Too many queued jobs"),
        BadHttpRequestException bad when bad.StatusCode == 413 => (413, "Request body too large"),
        BadHttpRequestException bad => (bad.StatusCode, "Bad request"),
        OperationCanceledException => (499, "Client closed request"),
        _ => (500, "Internal server error"),
    };

    private static string Slug(string title) => title.ToLowerInvariant().Replace(' ', '-');
}
