using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Security.Claims;
using System.Text.Json;
using Iris.Configuration;
using Iris.Contracts;
using Iris.Core.Imaging;
using Iris.Core.Jobs;
using Iris.Core.Storage;
using Iris.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

namespace Iris.Http;

/// <summary>Asynchronous jobs: submit now, fetch the result when a worker has produced it.</summary>
public static class JobsApi
{
    /// <summary>Most stored images one submission may name, and the most bytes they may add up to, in image-size limits.</summary>
    private const int MaxImageIds = 100;
    private const int MaxImageIdBytesInImages = 10;

    /// <summary>Request fields that configure the job itself rather than its tasks.</summary>
    private static readonly HashSet<string> Reserved = new(StringComparer.OrdinalIgnoreCase) { "tasks", "callback_url", "image_ids" };

    public static IEndpointRouteBuilder MapJobsApi(this IEndpointRouteBuilder app)
    {
        var jobs = app.MapGroup("/v1/jobs").WithTags("Jobs");
        jobs.MapPost("/", SubmitAsync)
            .WithName("SubmitJob")
            .WithSummary("Submit images for asynchronous processing")
            .WithDescription(
                "Takes the same image inputs as the synchronous routes: multipart/form-data (one file, or several files — any field " +
                "name — as a batch with one job per file), a raw image body, JSON {\"image\": \"<base64>\"}, or `image_ids` (query or form, " +
                "comma-separated ids of images stored with POST /api/v1/upload; up to 100, one job each). `tasks` (query or form, " +
                "comma-separated; default Jobs:DefaultTasks) picks what runs; other parameters are passed to the tasks (e.g. " +
                "min_confidence). Optional `callback_url` receives a signed webhook when each job finishes. An `Idempotency-Key` " +
                "header makes a repeated submission return the original jobs. Answers 202 with the job ids and a Location; 429 with " +
                "Retry-After when Jobs:MaxQueued jobs are already queued.")
            .AddOpenApiOperationTransformer(ImageRequestBody.Describe)
            .Produces<JobSubmissionResponse>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .DisableAntiforgery();
        jobs.MapGet("/", ListAsync)
            .WithName("ListJobs")
            .WithSummary("List jobs, newest first")
            .WithDescription("Filters: `status` (queued, processing, done, failed, canceled), `batch_id`. `limit` 1–1000 (default 50); " +
                             "pass the answer's `next_cursor` as `cursor` for the next page.")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        jobs.MapGet("/{id}", GetAsync)
            .WithName("GetJob")
            .WithSummary("A job's status")
            .WithDescription("The job document. Once a job with a `callback_url` has finished, `webhook` tells where its notification " +
                             "stands: `status` (pending, delivered, failed), `attempts`, `last_error`, `next_attempt_at` and `delivered_at`.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        jobs.MapGet("/{id}/result", GetResultAsync)
            .WithName("GetJobResult")
            .WithSummary("A finished job's result document")
            .WithDescription("200 with the result document (what the synchronous analysis returns) once the job is done; 202 with the job's " +
                             "status and Retry-After while it is queued or processing; 409 if it failed or was canceled.")
            .Produces(StatusCodes.Status200OK, contentType: "application/json")
            .Produces<JobResponse>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        jobs.MapDelete("/{id}", CancelAsync)
            .WithName("CancelJob")
            .WithSummary("Cancel a queued job")
            .WithDescription("A queued job becomes canceled and will not run; canceling it again is harmless. A job already processing or finished answers 409.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        jobs.MapPost("/{id}/retry", RetryAsync)
            .WithName("RetryJob")
            .WithSummary("Re-submit a failed or canceled job")
            .WithDescription("The job goes back to queued with fresh attempts, on its stored input. Other states answer 409.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        jobs.MapGet("/{id}/events", EventsAsync)
            .WithName("JobEvents")
            .WithSummary("Stream a job's status changes (Server-Sent Events)")
            .WithDescription("Sends `event: status` with the job document now and at every change, and ends after the job finishes; " +
                "an empty `event: keep-alive` comes after 15 s without a change.")
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    private static async Task<Accepted<JobSubmissionResponse>> SubmitAsync(
        HttpRequest request, IrisOptions options, ImageDecoder decoder, JobService service, IBlobStore blobs, Iris.Core.Library.ImageLibrary library,
        CancellationToken cancellationToken)
    {
        var (images, form) = await ReadImagesAsync(request, decoder.Limits, cancellationToken);
        if (ImageIds(request, form) is { } ids)
        {
            if (images.Count > 0)
                throw new InvalidJobRequestException("Send either image files or image_ids, not both.", "image_ids");
            images = await StoredImagesAsync(ids, blobs, library, Access.Owner(request.HttpContext.User), decoder.Limits, cancellationToken);
        }
        var result = await service.SubmitAsync(BuildSubmission(request, form, images, service, options, options.Jobs.DefaultTasks), cancellationToken);
        var response = JobSubmissionResponse.From(result);
        if (result.Replayed) request.HttpContext.Response.Headers["Idempotent-Replayed"] = "true";
        var location = result.BatchId is { } batch ? $"/v1/jobs?batch_id={batch}" : $"/v1/jobs/{response.Id}";
        return TypedResults.Accepted(location, response);
    }

    /// <summary>The submission of a request: tasks, parameters, idempotency key and callback, checked before anything is stored.</summary>
    internal static JobSubmission BuildSubmission(
        HttpRequest request, IFormCollection? form, IReadOnlyList<JobInputImage> images, JobService service, IrisOptions options, string defaultTasks)
    {
        string? Field(string name)
        {
            var value = request.Query[name].ToString();
            if (value.Length == 0 && form is not null) value = form[name].ToString();
            return value.Length == 0 ? null : value;
        }

        var tasks = service.ParseTasks(Field("tasks"), defaultTasks);

        var parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in request.Query)
            if (!Reserved.Contains(key)) parameters[key] = value.ToString();
        if (form is not null)
            foreach (var (key, value) in form)
                if (!Reserved.Contains(key) && !parameters.ContainsKey(key)) parameters[key] = value.ToString();

        var callback = Field("callback_url");
        if (callback is not null)
        {
            if (!Uri.TryCreate(callback, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                throw new InvalidJobRequestException($"callback_url must be an absolute http(s) URL; got '{callback}'.", "callback_url");
            // Names that resolve to private addresses are refused where the webhook's socket opens.
            if (!options.Jobs.WebhookAllowPrivateNetworks && Iris.Core.Sources.RemoteImageFetcher.IsPrivateHost(uri.IdnHost))
                throw new InvalidJobRequestException(
                    $"callback_url points at a loopback or private address ({uri.IdnHost}); set Jobs:WebhookAllowPrivateNetworks=true to deliver webhooks inside your network.", "callback_url");
            if (string.IsNullOrEmpty(options.Jobs.WebhookSecret))
                throw new InvalidJobRequestException(
                    "callback_url needs webhooks to be signed, and this server has no Jobs:WebhookSecret configured; set it (IRIS__Jobs__WebhookSecret) or omit callback_url.",
                    "callback_url");
        }

        var idempotencyKey = request.Headers["Idempotency-Key"].ToString();
        if (idempotencyKey.Length > 255)
            throw new InvalidJobRequestException("The Idempotency-Key header must be at most 255 characters.", "Idempotency-Key");
        return new JobSubmission(images, tasks, parameters, idempotencyKey.Length == 0 ? null : idempotencyKey, callback, Access.Owner(request.HttpContext.User));
    }

    /// <summary>Every file of a multipart form (one job each), or the single image of a raw or JSON body.</summary>
    internal static async Task<(IReadOnlyList<JobInputImage> Images, IFormCollection? Form)> ReadImagesAsync(
        HttpRequest request, ImageLimits limits, CancellationToken cancellationToken)
    {
        // Stored image ids replace the body; SubmitAsync reads them from the image store.
        if (request.Query.ContainsKey("image_ids") && !request.HasFormContentType)
            return ([], null);
        if (!request.HasFormContentType)
        {
            var upload = await ImageUpload.ReadAsync(request, limits, cancellationToken);
            return ([Checked(upload.Bytes, upload.FileName)], null);
        }
        var form = await ImageUpload.ReadFormOrRefuseAsync(request, cancellationToken);
        if (form.Files.Count == 0)
        {
            if (form.ContainsKey("image_ids")) return ([], form);
            throw new InvalidRequestException("The multipart form has no files; send the image in an 'image' or 'file' field (several files make a batch).", "image");
        }
        var images = new List<JobInputImage>();
        foreach (var file in form.Files)
        {
            if (file.Length > limits.MaxBytes)
                throw new ImageTooLargeException(file.Length, limits.MaxBytes);
            await using var stream = file.OpenReadStream();
            using var buffer = new MemoryStream((int)file.Length);
            await stream.CopyToAsync(buffer, cancellationToken);
            images.Add(Checked(buffer.ToArray(), file.FileName));
        }
        return (images, form);
    }

    /// <summary>The <c>image_ids</c> of the query or form, checked for form and number; null when there are none.</summary>
    private static IReadOnlyList<string>? ImageIds(HttpRequest request, IFormCollection? form)
    {
        var value = request.Query["image_ids"].ToString();
        if (value.Length == 0 && form is not null) value = form["image_ids"].ToString();
        if (value.Length == 0) return null;
        var ids = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (ids.Length == 0)
            throw new InvalidJobRequestException("image_ids is empty; give the comma-separated ids that POST /api/v1/upload returned.", "image_ids");
        if (ids.Length > MaxImageIds)
            throw new InvalidJobRequestException($"image_ids names {ids.Length} images; one submission takes at most {MaxImageIds}.", "image_ids");
        foreach (var id in ids)
            if (!BlobIds.IsValid(id))
                throw new InvalidJobRequestException($"'{id}' is not an image id: ids are 32 lowercase hex characters, as POST /api/v1/upload returns them.", "image_ids");
        return ids;
    }

    /// <summary>
    /// The stored images, copied into the jobs' own input store by the submission so a job keeps its input even if
    /// the stored image is deleted later. A missing id is a 404 naming it; the total is bounded like an upload. With
    /// access control, a caller names only images it stored: its uploads and transform outputs, or its library images.
    /// Another caller's id is as missing as an unknown one, so the answer does not reveal that it exists.
    /// </summary>
    private static async Task<IReadOnlyList<JobInputImage>> StoredImagesAsync(
        IReadOnlyList<string> ids, IBlobStore blobs, Iris.Core.Library.ImageLibrary library, string? owner, ImageLimits limits, CancellationToken cancellationToken)
    {
        var images = new List<JobInputImage>(ids.Count);
        long total = 0;
        foreach (var id in ids)
        {
            if (owner is not null && !await blobs.IsKeptAsync(id, owner, cancellationToken) && !await library.OwnsAsync(id, owner, cancellationToken))
                throw new BlobNotFoundException(id);
            var bytes = await blobs.GetAsync(id, cancellationToken) ?? throw new BlobNotFoundException(id);
            if (bytes.Length > limits.MaxBytes) throw new ImageTooLargeException(bytes.Length, limits.MaxBytes);
            total += bytes.Length;
            if (total > limits.MaxBytes * MaxImageIdBytesInImages)
                throw new InvalidJobRequestException(
                    $"The stored images named add up to more than {limits.MaxBytes * MaxImageIdBytesInImages} bytes; submit fewer image_ids per request.", "image_ids");
            images.Add(Checked(bytes, id));
        }
        return images;
    }

    /// <summary>Refuses what is not an image at all now (415), instead of accepting a job that can only fail.</summary>
    private static JobInputImage Checked(byte[] bytes, string? fileName)
    {
        if (bytes.Length == 0) throw new EmptyImageException();
        if (ImageFormatSniffer.Sniff(bytes) is null)
            throw new UnsupportedImageFormatException(
                $"{(fileName is null ? "The data" : $"'{fileName}'")} is not an image in a supported format (JPEG, PNG, GIF, WebP, TIFF, BMP, HEIF/AVIF, SVG); " +
                "the format is detected from the content.");
        return new JobInputImage(bytes, fileName);
    }

    private static async Task<Ok<JobListResponse>> ListAsync(
        JobService service, ClaimsPrincipal user, string? status, int? limit, string? cursor, string? batch_id, CancellationToken cancellationToken)
    {
        JobStatus? filter = null;
        if (status is not null)
            // One name exactly: Enum.TryParse would also take numbers and OR comma lists ("processing,done" is Failed).
            filter = Enum.GetValues<JobStatus>().Cast<JobStatus?>().FirstOrDefault(s => s.ToString()!.Equals(status, StringComparison.OrdinalIgnoreCase))
                ?? throw new InvalidJobRequestException($"status must be one of queued, processing, done, failed, canceled; got '{status}'.", "status");
        if (limit is < 1 or > 1000)
            throw new InvalidJobRequestException($"limit must be between 1 and 1000; got {limit}.", "limit");
        var page = await service.ListAsync(new JobQuery(filter, limit ?? 50, cursor, batch_id, Access.Owner(user)), cancellationToken);
        return TypedResults.Ok(new JobListResponse(page.Jobs.Select(JobResponse.From).ToList(), page.NextCursor));
    }

    private static async Task<Ok<JobResponse>> GetAsync(
        string id, ClaimsPrincipal user, JobService service, IWebhookOutbox outbox, CancellationToken cancellationToken)
    {
        var job = await service.GetAsync(id, Access.Owner(user), cancellationToken);
        var webhook = job.CallbackUrl is null ? null : await outbox.GetWebhookAsync(id, cancellationToken);
        return TypedResults.Ok(JobResponse.From(job) with { Webhook = webhook is null ? null : JobWebhookResponse.From(webhook) });
    }

    private static async Task<Results<ContentHttpResult, Accepted<JobResponse>>> GetResultAsync(
        string id, HttpResponse response, ClaimsPrincipal user, JobService service, CancellationToken cancellationToken)
    {
        var job = await service.GetAsync(id, Access.Owner(user), cancellationToken);
        switch (job.Status)
        {
            case JobStatus.Done:
                return TypedResults.Text(job.Result!, "application/json");
            case JobStatus.Failed:
                throw new JobStateConflictException($"Job '{id}' failed after {job.Attempts} attempt(s): {job.Error}. POST /v1/jobs/{id}/retry re-submits it.");
            case JobStatus.Canceled:
                throw new JobStateConflictException($"Job '{id}' was canceled and has no result. POST /v1/jobs/{id}/retry re-submits it.");
            default:
                response.Headers.RetryAfter = "1";
                return TypedResults.Accepted($"/v1/jobs/{id}", JobResponse.From(job));
        }
    }

    private static async Task<Ok<JobResponse>> CancelAsync(string id, ClaimsPrincipal user, JobService service, CancellationToken cancellationToken) =>
        TypedResults.Ok(JobResponse.From(await service.CancelAsync(id, Access.Owner(user), cancellationToken)));

    private static async Task<Accepted<JobResponse>> RetryAsync(string id, ClaimsPrincipal user, JobService service, CancellationToken cancellationToken) =>
        TypedResults.Accepted($"/v1/jobs/{id}", JobResponse.From(await service.RetryAsync(id, Access.Owner(user), cancellationToken)));

    /// <summary>
    /// Polls the store rather than listening in-process, because the worker that changes the job may be another
    /// process or machine; every store change is seen within one poll interval. An unknown job (or another owner's)
    /// is a 404 problem before the stream starts.
    /// </summary>
    private static async Task<ServerSentEventsResult<string>> EventsAsync(
        string id, HttpContext context, IrisOptions options, JobService service, TimeProvider clock)
    {
        var job = await service.GetAsync(id, Access.Owner(context.User), context.RequestAborted);
        // Tells nginx-style proxies not to buffer the stream (the result itself sets no-cache and the content type).
        context.Response.Headers["X-Accel-Buffering"] = "no";
        return TypedResults.ServerSentEvents(StatusEventsAsync(job, service, TimeSpan.FromMilliseconds(options.Jobs.PollIntervalMs), clock, context.RequestAborted));
    }

    /// <summary>
    /// <c>event: status</c> (numbered by <c>id</c>) with the job document now and at each change of status, attempts
    /// or error, ending once the job is finished; an empty <c>event: keep-alive</c> after 15 s without one, so proxies
    /// do not close an idle stream.
    /// </summary>
    private static async IAsyncEnumerable<SseItem<string>> StatusEventsAsync(
        Job job, JobService service, TimeSpan poll, TimeProvider clock, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var keepAlive = clock.GetTimestamp();
        (JobStatus, int, string?)? last = null;
        var sequence = 0;
        while (true)
        {
            var state = (job.Status, job.Attempts, job.Error);
            if (state != last)
            {
                last = state;
                yield return new SseItem<string>(JsonSerializer.Serialize(JobResponse.From(job), JobResponse.Json), "status")
                {
                    EventId = (++sequence).ToString(CultureInfo.InvariantCulture),
                };
                keepAlive = clock.GetTimestamp();
            }
            if (job.IsFinished) yield break;
            if (clock.GetElapsedTime(keepAlive) > TimeSpan.FromSeconds(15))
            {
                yield return new SseItem<string>("", "keep-alive");
                keepAlive = clock.GetTimestamp();
            }
            var next = await NextAsync(job.Id, service, poll, clock, cancellationToken);
            // The client went away.
            if (next is null) yield break;
            job = next;
        }
    }

    private static async Task<Job?> NextAsync(string id, JobService service, TimeSpan poll, TimeProvider clock, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(poll, clock, cancellationToken);
            return await service.GetAsync(id, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }
}
