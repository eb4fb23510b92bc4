using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Serialization;
using Iris.Configuration;
using Iris.Core.Imaging;
using Iris.Core.Jobs;
using Iris.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Iris.Http;

/// <summary>
/// The job routes existing captioning clients call, with their exact response shapes. They run the tasks of
/// Jobs:CompatTasks; <c>image_description</c> comes from the <c>describe</c> task's result when there is one.
/// </summary>
public static class CompatJobsApi
{
    public sealed record SubmitResponse(
        [property: JsonPropertyName("job_id")] string JobId,
        [property: JsonPropertyName("status")] string Status,
        [property: JsonPropertyName("message")] string Message);

    public sealed record StatusResponse(
        [property: JsonPropertyName("job_id")] string JobId,
        [property: JsonPropertyName("status")] string Status,
        [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt);

    public sealed record ResultResponse(
        [property: JsonPropertyName("job_id")] string JobId,
        [property: JsonPropertyName("status")] string Status,
        [property: JsonPropertyName("image_description")] string? ImageDescription,
        [property: JsonPropertyName("generated_by")] string? GeneratedBy,
        [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
        [property: JsonPropertyName("completed_at")] DateTimeOffset? CompletedAt);

    public static IEndpointRouteBuilder MapCompatJobsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").WithTags("Jobs (compatibility)");
        api.MapPost("/submit", SubmitAsync)
            .WithName("CompatSubmit")
            .WithSummary("Submit an image (compatibility route)")
            .WithDescription("multipart/form-data with the image in `file`. Runs the tasks of Jobs:CompatTasks. Answers " +
                             "{\"job_id\", \"status\": \"queued\", \"message\": \"Job submitted successfully\"}.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .DisableAntiforgery();
        api.MapGet("/status/{job_id}", StatusAsync)
            .WithName("CompatStatus")
            .WithSummary("A job's status (compatibility route)")
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/result/{job_id}", ResultAsync)
            .WithName("CompatResult")
            .WithSummary("A job's description (compatibility route)")
            .WithDescription("{\"job_id\", \"status\", \"image_description\", \"generated_by\", \"created_at\", \"completed_at\"}. Before the job is " +
                             "done, status says where it is and image_description is null.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    private static async Task<Ok<SubmitResponse>> SubmitAsync(
        HttpRequest request, IrisOptions options, ImageDecoder decoder, JobService service, CancellationToken cancellationToken)
    {
        var (images, form) = await JobsApi.ReadImagesAsync(request, decoder.Limits, cancellationToken);
        if (images.Count != 1)
            throw new InvalidRequestException($"Send exactly one image, in the 'file' field; got {images.Count}.", "file");
        var submission = JobsApi.BuildSubmission(request, form, images, service, options, options.Jobs.CompatTasks);
        var result = await service.SubmitAsync(submission with { Tasks = service.ParseTasks(null, options.Jobs.CompatTasks) }, cancellationToken);
        return TypedResults.Ok(new SubmitResponse(result.Jobs[0].Id, SqlJobStore.Name(result.Jobs[0].Status), "Job submitted successfully"));
    }

    private static async Task<Ok<StatusResponse>> StatusAsync(string job_id, ClaimsPrincipal user, JobService service, CancellationToken cancellationToken)
    {
        var job = await service.GetAsync(job_id, Access.Owner(user), cancellationToken);
        return TypedResults.Ok(new StatusResponse(job.Id, SqlJobStore.Name(job.Status), job.CreatedAt));
    }

    private static async Task<Ok<ResultResponse>> ResultAsync(string job_id, ClaimsPrincipal user, JobService service, CancellationToken cancellationToken)
    {
        var job = await service.GetAsync(job_id, Access.Owner(user), cancellationToken);
        var generatedBy = job.GeneratedBy.Count == 0 ? null : string.Join(", ", job.GeneratedBy.Select(m => m.Name));
        return TypedResults.Ok(new ResultResponse(
            job.Id, SqlJobStore.Name(job.Status), job.Status == JobStatus.Done ? DescriptionOf(job.Result) : null, generatedBy, job.CreatedAt, job.CompletedAt));
    }

    /// <summary>
    /// The caption in a result document: <c>describe</c> as a string, or its <c>description</c>/<c>caption</c>/<c>text</c>
    /// field. Null when the job ran no describe task.
    /// </summary>
    public static string? DescriptionOf(string? result)
    {
        if (result is null) return null;
        using var document = JsonDocument.Parse(result);
        if (!document.RootElement.TryGetProperty("describe", out var describe)) return null;
        if (describe.ValueKind == JsonValueKind.String) return describe.GetString();
        if (describe.ValueKind != JsonValueKind.Object) return null;
        foreach (var name in new[] { "description", "caption", "text" })
            if (describe.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String)
                return value.GetString();
        return null;
    }
}
