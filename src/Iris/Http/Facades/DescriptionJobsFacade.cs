using System.Globalization;
using System.Security.Claims;
using Iris.Configuration;
using Iris.Core.Imaging;
using Iris.Core.Jobs;
using Iris.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Iris.Http.Facades;

/// <summary>
/// The job routes of the asynchronous image description service (seed 001), with its exact response shapes. They run
/// the tasks of Jobs:CompatTasks; <c>image_description</c> comes from the <c>describe</c> task's result when there is
/// one. Job ids are shown as UUIDs in the canonical dashed form (Iris's ids are UUIDv7s written as 32 hex digits; every
/// job route accepts both forms, <see cref="Job.IdOf"/>), and timestamps in UTC with exactly six fraction digits, which every ISO 8601 parser reads
/// (Python 3.10's <c>datetime.fromisoformat</c> takes neither seven digits nor <c>Z</c>).
/// </summary>
public static class DescriptionJobsFacade
{
    public sealed record SubmitResponse(string JobId, string Status, string Message);

    public sealed record StatusResponse(string JobId, string Status, string CreatedAt);

    public sealed record ResultResponse(string JobId, string Status, string? ImageDescription, string? GeneratedBy, string CreatedAt, string? CompletedAt);

    public static IEndpointRouteBuilder MapDescriptionJobsFacade(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").WithTags("Jobs (compatibility)");
        api.MapPost("/submit", SubmitAsync)
            .WithName("CompatSubmit")
            .WithSummary("Submit an image (compatibility route)")
            .WithDescription("multipart/form-data with the image in `file`. Runs the tasks of Jobs:CompatTasks. Answers " +
                             "{\"job_id\", \"status\": \"queued\", \"message\": \"Job submitted successfully\"}; job_id is a UUID (dashed form).")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .DisableAntiforgery();
        api.MapGet("/status/{job_id}", StatusAsync)
            .WithName("CompatStatus")
            .WithSummary("A job's status (compatibility route)")
            .WithDescription("{\"job_id\", \"status\", \"created_at\"}; created_at in UTC with six fraction digits, e.g. 2026-12-03T11:48:43.123456+00:00.")
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
        return TypedResults.Ok(new SubmitResponse(Dashed(result.Jobs[0].Id), SqlJobStore.Name(result.Jobs[0].Status), "Job submitted successfully"));
    }

    private static async Task<Ok<StatusResponse>> StatusAsync(string job_id, ClaimsPrincipal user, JobService service, CancellationToken cancellationToken)
    {
        var job = await service.GetAsync(job_id, Access.Owner(user), cancellationToken);
        return TypedResults.Ok(new StatusResponse(Dashed(job.Id), SqlJobStore.Name(job.Status), Timestamp(job.CreatedAt)));
    }

    private static async Task<Ok<ResultResponse>> ResultAsync(string job_id, ClaimsPrincipal user, JobService service, CancellationToken cancellationToken)
    {
        var job = await service.GetAsync(job_id, Access.Owner(user), cancellationToken);
        var generatedBy = job.GeneratedBy.Count == 0 ? null : string.Join(", ", job.GeneratedBy.Select(m => m.Name));
        return TypedResults.Ok(new ResultResponse(Dashed(job.Id), SqlJobStore.Name(job.Status),
            job.Status == JobStatus.Done ? ResultDocument.DescriptionOf(job.Result) : null, generatedBy,
            Timestamp(job.CreatedAt), job.CompletedAt is { } completed ? Timestamp(completed) : null));
    }

    /// <summary>The canonical dashed form of a job id (8-4-4-4-12); an id that is not 32 hex digits is shown as it is.</summary>
    public static string Dashed(string jobId) =>
        Guid.TryParseExact(jobId, "N", out var uuid) ? uuid.ToString("D") : jobId;

    /// <summary>UTC with exactly six fraction digits and an explicit offset: 2026-12-03T11:48:43.123456+00:00.</summary>
    public static string Timestamp(DateTimeOffset time) =>
        time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'+00:00'", CultureInfo.InvariantCulture);
}
