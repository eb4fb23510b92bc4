using System.Diagnostics;
using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Iris.Configuration;
using Iris.Contracts;
using Iris.Core.Detection;
using Iris.Core.Faces;
using Iris.Core.Imaging;
using Iris.Core.Jobs;
using Iris.Core.Sources;
using Iris.Core.Storage;
using Iris.Core.Tasks;
using Iris.Core.Tasks.Detection;
using Iris.Core.Tasks.Faces;
using Iris.Core.Tasks.Inspection;
using Iris.Core.Tasks.Ocr;
using Iris.Core.Tasks.Transforms;
using Iris.Core.Transforms;
using Iris.Jobs;
using Iris.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Iris.Http.Facades;

/// <summary>
/// The image processing microservice (seed 003) that Iris replaces: its <c>/api/v1/…</c> routes and <c>/health/…</c>
/// probes, as its clients call them. Images come as an <c>image_url</c> (JSON body, form field or query parameter,
/// fetched under the Sources:* rules) or as the image itself in any envelope <see cref="ImageUpload"/> reads. The
/// transform routes answer the image at once; sent the old service's JSON with an <c>image_url</c>, they answer its
/// <c>{"task_id", "status": "pending"}</c> and run as a durable <c>transform</c> job that <c>GET /api/v1/tasks/{id}</c>
/// reports. The AI routes run the same tasks as <c>/v1/ocr</c>, <c>/v1/detect</c>, <c>/v1/faces</c> and <c>/v1/info</c>.
/// The old service's schema fields (<c>filter_type</c>, <c>intensity</c>, <c>confidence_threshold</c>, …) keep its
/// ranges and its 422 when out of them; Iris's own parameters keep their 400.
/// </summary>
public static class ImageProcessingFacade
{
    private const string ServiceTag = "Compatibility: image processing service";

    // query parameter → the operation's argument
    private static readonly (string Parameter, string Argument)[] ResizeParameters =
        [("width", "w"), ("height", "h"), ("fit", "fit"), ("enlarge", "enlarge"), ("kernel", "kernel"), ("gravity", "gravity"), ("background", "background")];
    private static readonly (string Parameter, string Argument)[] CropParameters =
        [("x", "x"), ("y", "y"), ("width", "w"), ("height", "h"), ("gravity", "gravity")];
    private static readonly (string Parameter, string Argument)[] FilterParameters =
        [("radius", "radius"), ("sigma", "sigma"), ("size", "size"), ("amount", "amount"), ("method", "method")];
    private static readonly (string Parameter, string Argument)[] EnhanceParameters =
        [("brightness", "brightness"), ("contrast", "contrast"), ("saturation", "saturation"), ("sharpness", "sharpness"), ("gamma", "gamma"), ("normalize", "normalize")];

    private static readonly string[] Filters = ["blur", "gaussblur", "median", "sharpen", "edge", "sobel", "canny", "emboss", "contour", "grayscale", "sepia", "invert"];

    /// <summary>
    /// The old service's filter names (its FilterType values) → Iris's operation. Its clients also write them with a
    /// space or a hyphen ("edge detection", "Gaussian-Blur"): <see cref="FilterKey"/> folds those.
    /// </summary>
    private static readonly Dictionary<string, string> ServiceFilters = new(StringComparer.Ordinal)
    {
        ["blur"] = "blur", ["sharpen"] = "sharpen", ["edge_detection"] = "canny", ["gaussian_blur"] = "gaussblur",
        ["median_filter"] = "median", ["emboss"] = "emboss", ["contour"] = "contour",
    };

    private const float MinIntensity = 0.1f, MaxIntensity = 3f;

    public static IEndpointRouteBuilder MapImageProcessingFacade(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1").WithTags("Transform (compatibility)");
        Describe(group.MapPost("/resize", (HttpContext c, TransformTask t, RemoteImageFetcher f, JobService j, CancellationToken ct) => SingleAsync(c, t, f, j, "resize", ct)),
            "CompatResize", "Resize an image",
            "Parameters: width, height (1–100000; at least one), fit (inside|contain|cover|fill|outside, default inside), enlarge, kernel, gravity, background, " +
            "or the old service's maintain_aspect_ratio (false = fill; sent, small images are enlarged as it did); output: format (or output_format), quality.");
        Describe(group.MapPost("/crop", (HttpContext c, TransformTask t, RemoteImageFetcher f, JobService j, CancellationToken ct) => SingleAsync(c, t, f, j, "crop", ct)),
            "CompatCrop", "Crop an image",
            "Parameters: x, y, width, height (a rectangle), or width, height and gravity (centre, north, …, attention or entropy for smart crop); output: format (or output_format), quality.");
        Describe(group.MapPost("/filter", (HttpContext c, TransformTask t, RemoteImageFetcher f, JobService j, CancellationToken ct) => SingleAsync(c, t, f, j, "filter", ct)),
            "CompatFilter", "Apply a filter",
            $"Parameters: filter ({string.Join(", ", Filters)}), and as the filter takes them radius, sigma, size, amount, method; or the old service's " +
            $"filter_type ({string.Join(", ", ServiceFilters.Keys)}, also written with spaces) with intensity 0.1–3 (default 1) as it applied it; output: format (or output_format), quality.");
        Describe(group.MapPost("/enhance", (HttpContext c, TransformTask t, RemoteImageFetcher f, JobService j, CancellationToken ct) => SingleAsync(c, t, f, j, "enhance", ct)),
            "CompatEnhance", "Adjust brightness, contrast, saturation, sharpness, gamma or normalise",
            "Parameters: brightness, contrast, saturation, sharpness (factors 0–10, 1 = unchanged), gamma (0.1–10), normalize (true/false); output: format (or output_format), quality.");
        group.MapPost("/batch", BatchAsync)
            .WithName("CompatBatch")
            .WithSummary("Transform several images with several pipelines")
            .WithDescription(
                "multipart/form-data with any number of image files and one or more `ops` fields, or JSON `{\"images\": [base64…], \"ops\": [\"…\", …]}`. " +
                "Every image is run through every pipeline; the answer lists each result (base64 data) or its error. At most Transforms:MaxBatchItems " +
                "images × pipelines answer at once (200), all within the request body limit. A larger batch runs as durable jobs: 202 with " +
                "one `transform` job per image (a batch; Location lists it), each keeping its outputs in the image store (the job result " +
                "lists their ids and /v1/img URLs); an `Idempotency-Key` header makes a repeated request return the same jobs. " +
                "The old service's JSON `{\"image_urls\": [...], \"operations\": [{\"type\": \"resize\", \"width\": 300, …}]}` runs one job per " +
                "image × operation and answers `{\"batch_id\", \"task_ids\", \"total_tasks\"}`.")
            .Produces<BatchResponse>(StatusCodes.Status200OK)
            .Produces<JobSubmissionResponse>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .DisableAntiforgery();

        app.MapPost("/api/v1/upload", UploadAsync)
            .WithName("Upload")
            .WithTags("Transform")
            .WithSummary("Store an image and get its id for the URL API")
            .WithDescription("Same envelopes as /v1/transform. The image is checked (format, byte and pixel limits, and that it decodes) and stored; " +
                "the id is content-addressed, so uploading the same bytes again returns the same id. Sent as the old image processing service's " +
                "clients send it (multipart field `file`), the answer also carries its `success`, `task_id`, `status`, `result_url` and `message`.")
            .AddOpenApiOperationTransformer(ImageRequestBody.Describe)
            .Produces<UploadResponse>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status507InsufficientStorage)
            .DisableAntiforgery();

        var service = app.MapGroup("/api/v1").WithTags(ServiceTag).DisableAntiforgery();
        service.MapPost("/ocr", OcrAsync)
            .WithName("ImageProcessingOcr")
            .WithSummary("Extract text (image processing service /api/v1/ocr)")
            .WithDescription("JSON `{\"image_url\": \"…\", \"languages\": [\"eng\"], \"detect_orientation\": true, \"extract_confidence\": true}`, or the image itself. " +
                             "Runs the OCR task (Ocr:Model); `languages` is accepted and the model's own alphabet applies. Answers `{success, message, task_id, " +
                             "results: [{text, confidence, bbox: {x1, y1, x2, y2, confidence}}], processing_time, detected_language}`, one result per line.")
            .AddOpenApiOperationTransformer(ImageRequestBody.Describe)
            .AsImageRoute();
        service.MapPost("/detect-objects", DetectObjectsAsync)
            .WithName("ImageProcessingDetectObjects")
            .WithSummary("Detect objects (image processing service /api/v1/detect-objects)")
            .WithDescription("JSON `{\"image_url\": \"…\", \"confidence_threshold\": 0.5, \"max_detections\": 100, \"classes_filter\": [\"person\"]}`, or the image " +
                             "itself. Runs the detection task (Detection:Model, or `model`). Answers `{success, message, task_id, objects: [{class_name, confidence, " +
                             "bbox: {x1, y1, x2, y2, confidence}}], processing_time, image_url}`, highest confidence first; 422 for a field out of its range.")
            .AddOpenApiOperationTransformer(ImageRequestBody.Describe)
            .AsImageRoute();
        service.MapPost("/detect-faces", DetectFacesAsync)
            .WithName("ImageProcessingDetectFaces")
            .WithSummary("Detect faces (image processing service /api/v1/detect-faces)")
            .WithDescription("As /api/v1/detect-objects, with the face task (Faces:Model): each object has class_name `face`.")
            .AddOpenApiOperationTransformer(ImageRequestBody.Describe)
            .AsImageRoute();
        service.MapGet("/image-info", ImageInfoAsync)
            .WithName("ImageProcessingImageInfoFromUrl")
            .WithSummary("Image metadata and analysis of an image URL (image processing service /api/v1/image-info)")
            .WithDescription("`image_url` (required, 422 without): fetched under the Sources:* rules. Answers `{success, image_info: {format, mode, size, width, " +
                             "height, has_transparency, file_size, exif?, color_analysis}, source_url}` from the info task.")
            .AsImageRoute();
        service.MapPost("/image-info", ImageInfoAsync)
            .WithName("ImageProcessingImageInfo")
            .WithSummary("Image metadata and analysis of an uploaded image or an image_url")
            .WithDescription("As GET /api/v1/image-info, with the image in the body or `image_url` in JSON, a form field or the query.")
            .AddOpenApiOperationTransformer(ImageRequestBody.Describe)
            .AsImageRoute();
        service.MapGet("/tasks/{task_id}", TaskAsync)
            .WithName("ImageProcessingTask")
            .WithSummary("A task's status (image processing service /api/v1/tasks/{task_id})")
            .WithDescription("Any Iris job, including those the transform routes and the batch start from an image_url: `{task_id, status (pending, " +
                             "processing, completed, failed), created_at, updated_at, progress, error_message, result}`; a transform's `result` has its " +
                             "`result_url`. 404 for an unknown id.")
            .ProducesProblem(StatusCodes.Status404NotFound);

        // Probes answer without a caller: orchestrators do not hold API keys.
        var health = app.MapGroup("/health").WithTags("Operate").AllowAnonymous();
        health.MapGet("/live", Live)
            .WithName("ImageProcessingLiveness").WithSummary("Liveness, as /healthz (the image processing service's probe path)");
        health.MapGet("/ready", HealthApi.Ready)
            .WithName("ImageProcessingReadiness").WithSummary("Readiness, the same check and answer as /readyz (the image processing service's probe path)");
        return app;
    }

    private static void Describe(RouteHandlerBuilder route, string name, string summary, string description) =>
        route.WithName(name).WithSummary(summary)
            .WithDescription("Same image envelopes as /v1/transform; parameters come from the query string or form fields. " +
                             "The old service's JSON with an `image_url` answers `{\"task_id\", \"status\": \"pending\", …}` and runs as a transform job. " + description)
            .AddOpenApiOperationTransformer(ImageRequestBody.Describe)
            .AddOpenApiOperationTransformer(ImageResponses.DescribeImage)
            .AsImageRoute();

    // ---- transform routes ------------------------------------------------------------------------------------------

    private static async Task<IResult> SingleAsync(
        HttpContext context, TransformTask transform, RemoteImageFetcher fetcher, JobService jobs, string route, CancellationToken cancellationToken)
    {
        var request = context.Request;
        if (await ReadServiceJsonAsync(request, cancellationToken) is { } json && Text(json, "image_url") is { } url)
        {
            // The old service queued every transform and answered at once; its clients poll /api/v1/tasks/{task_id}.
            var ops = OpsText(Operations(route, FieldsOf(json)));
            transform.Read(ops); // a bad parameter is refused before the image is fetched or anything is queued
            var image = await FetchAsync(fetcher, url, cancellationToken);
            var job = await SubmitTransformAsync(request, jobs, [image], ops, idempotent: true, cancellationToken);
            return TypedResults.Ok(new QueuedTaskResponse(true, $"{char.ToUpperInvariant(route[0])}{route[1..]} task queued for processing",
                CorrelationId(request), job.Jobs[0].Id, "pending", null, null));
        }
        var upload = await ImageUpload.ReadAsync(request, transform.ImageLimits, cancellationToken);
        var parameters = transform.Read(Operations(route, name => upload.Parameter(request, name)), request.Headers.Accept.ToString());
        var result = await transform.RunAsync(parameters, upload.Bytes, cancellationToken);
        return ImageResponses.Send(context, result, varyOnAccept: parameters.DependsOnAccept);
    }

    /// <summary>One route's operation and the output settings, from the route's parameters (Iris's names or the old service's).</summary>
    private static List<OperationCall> Operations(string route, Func<string, string?> field)
    {
        List<OperationCall> calls = route switch
        {
            "resize" => [ResizeCall(field)],
            "crop" => [Call("crop", field, CropParameters)],
            "filter" => [FilterCall(field)],
            "enhance" => [Call("enhance", field, EnhanceParameters)],
            _ => throw new RequestValidationException(
                $"operation type must be one of resize, crop, filter, enhance; got '{route}'.", "type"),
        };
        var output = new List<KeyValuePair<string, string>>();
        if ((field("format") ?? field("output_format")) is { } format) output.Add(new("type", format));
        if (field("quality") is { } quality) output.Add(new("q", quality));
        if (output.Count > 0) calls.Add(new OperationCall("format", output));
        return calls;
    }

    private static OperationCall Call(string op, Func<string, string?> field, (string Parameter, string Argument)[] parameters) =>
        new(op, parameters
            .Select(p => (p.Argument, Value: field(p.Parameter)))
            .Where(p => p.Value is not null)
            .Select(p => new KeyValuePair<string, string>(p.Argument, p.Value!))
            .ToList());

    /// <summary>
    /// The old service's <c>maintain_aspect_ratio</c>: true fitted the image inside width × height, enlarging a smaller
    /// one; false stretched it to exactly width × height.
    /// </summary>
    private static OperationCall ResizeCall(Func<string, string?> field)
    {
        var call = Call("resize", field, ResizeParameters);
        if (field("maintain_aspect_ratio") is not { } keep) return call;
        var arguments = call.Arguments.ToList();
        if (field("fit") is null) arguments.Add(new("fit", Bool(keep, "maintain_aspect_ratio") ? "inside" : "fill"));
        if (field("enlarge") is null) arguments.Add(new("enlarge", "true"));
        return call with { Arguments = arguments };
    }

    /// <summary>
    /// <c>filter</c> names an Iris filter (or one of the old service's names) with Iris's parameters; <c>filter_type</c>
    /// (or an <c>intensity</c>) asks for the old service's filter as it applied it.
    /// </summary>
    private static OperationCall FilterCall(Func<string, string?> field)
    {
        if (field("filter_type") is { } serviceName)
            return ServiceFilterCall(serviceName, field("intensity"), "filter_type");
        var name = field("filter") ?? field("type");
        if (name is not null && field("intensity") is { } intensity && ServiceFilters.ContainsKey(FilterKey(name)))
            return ServiceFilterCall(name, intensity, "filter");
        var key = name is null ? null : FilterKey(name);
        var op = key is null ? null : Filters.Contains(key) ? key : ServiceFilters.GetValueOrDefault(key);
        if (op is null)
            throw new InvalidRequestException(
                $"filter must be one of {string.Join(", ", Filters.Concat(ServiceFilters.Keys).Distinct())}; got '{name}'.", "filter");
        return Call(op, field, FilterParameters);
    }

    /// <summary>The old service's filters with its <c>intensity</c> (0.1–3, default 1), mapped to what it did with Pillow and OpenCV.</summary>
    private static OperationCall ServiceFilterCall(string name, string? intensityText, string parameter)
    {
        var key = FilterKey(name);
        if (!ServiceFilters.TryGetValue(key, out var op))
            throw new RequestValidationException(
                $"{parameter} must be one of {string.Join(", ", ServiceFilters.Keys)} (spaces instead of underscores are fine); got '{name}'.", parameter);
        var intensity = intensityText is null ? 1f : Number(intensityText, "intensity", MinIntensity, MaxIntensity);
        string Format(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
        List<KeyValuePair<string, string>> arguments = key switch
        {
            // Pillow's GaussianBlur(radius) takes the standard deviation: blur used intensity, gaussian_blur twice it.
            "blur" => [new("sigma", Format(intensity))],
            "gaussian_blur" => [new("sigma", Format(intensity * 2))],
            // ImageEnhance.Sharpness(1 + intensity).
            "sharpen" => [new("factor", Format(1 + intensity))],
            // cv2.medianBlur with an odd kernel of max(3, intensity × 5).
            "median_filter" => [new("size", (Math.Max(3, (int)(intensity * 5)) | 1).ToString(CultureInfo.InvariantCulture))],
            _ => [],
        };
        return new OperationCall(key switch { "blur" => "gaussblur", "sharpen" => "sharpness", _ => op }, arguments);
    }

    private static string FilterKey(string name) => name.Trim().ToLowerInvariant().Replace(' ', '_').Replace('-', '_');

    /// <summary>
    /// Calls in the ops syntax a transform job stores. Its values are numbers and names; one holding a separator would
    /// change the pipeline (a '|' even adds one), so it is refused rather than written.
    /// </summary>
    private static string OpsText(IEnumerable<OperationCall> calls) =>
        string.Join(';', calls.Select(c => c.Arguments.Count == 0 ? c.Op : $"{c.Op}:{string.Join(',', c.Arguments.Select(a =>
            a.Value.IndexOfAny([';', ',', ':', '|', '=']) < 0 ? $"{a.Key}={a.Value}"
                : throw new RequestValidationException($"{c.Op}.{a.Key} must be a number or a name; got '{a.Value}'.", $"{c.Op}.{a.Key}")))}"));

    private static async Task<JobSubmissionResult> SubmitTransformAsync(
        HttpRequest request, JobService jobs, List<byte[]> images, string ops, bool idempotent, CancellationToken cancellationToken)
    {
        var key = idempotent ? request.Headers["Idempotency-Key"].ToString() : "";
        if (key.Length > 255) throw new InvalidRequestException("The Idempotency-Key header must be at most 255 characters.", "Idempotency-Key");
        var submission = new JobSubmission(
            images.Select((bytes, i) => new JobInputImage(bytes, $"image-{i}")).ToList(),
            [TransformJobProcessor.TaskName],
            new Dictionary<string, string> { ["ops"] = ops },
            key.Length == 0 ? null : key,
            Owner: Access.Owner(request.HttpContext.User));
        var result = await jobs.SubmitAsync(submission, cancellationToken);
        if (result.Replayed) request.HttpContext.Response.Headers["Idempotent-Replayed"] = "true";
        return result;
    }

    /// <summary>The most output bytes one synchronous batch holds (as base64 in one JSON answer); items past it answer 413.</summary>
    private const long MaxBatchOutputBytes = 64L * 1_048_576;

    private static async Task<IResult> BatchAsync(
        HttpRequest request, IrisOptions options, TransformTask transform, JobService jobs, RemoteImageFetcher fetcher, CancellationToken cancellationToken)
    {
        if (await ReadServiceJsonAsync(request, cancellationToken) is { } json && json.TryGetProperty("image_urls", out var urls))
            return await ServiceBatchAsync(request, json, urls, transform, jobs, fetcher, cancellationToken);
        var (images, ops) = await ReadBatchAsync(request, transform.ImageLimits, cancellationToken);
        if (images.Count == 0)
            throw new InvalidRequestException("The batch has no images: send image files in a multipart form, or JSON {\"images\": [base64…]}.", "images");
        if (ops.Count == 0) ops.Add("");
        // Every pipeline is validated before any image is processed, so a typo fails the whole batch at once.
        var accept = request.Headers.Accept.ToString();
        var pipelines = ops.Select(o => transform.Read(o, accept)).ToList();
        if (images.Count * ops.Count > options.Transforms.MaxBatchItems)
            return await SubmitBatchJobsAsync(request, images, ops, jobs, cancellationToken);

        var results = new List<BatchItem>();
        long outputBytes = 0;
        for (var i = 0; i < images.Count; i++)
        {
            for (var p = 0; p < pipelines.Count; p++)
            {
                try
                {
                    var result = await transform.RunAsync(pipelines[p], images[i], cancellationToken);
                    if (outputBytes + result.Bytes.Length > MaxBatchOutputBytes)
                    {
                        results.Add(new BatchItem(i, p, 413, null, null, null, null, null, null, new BatchError("Output too large",
                            $"The batch's outputs passed {MaxBatchOutputBytes / 1_048_576} MiB, all held in one answer; run this item alone, or the batch as a job (/v1/jobs?tasks=transform).")));
                        continue;
                    }
                    outputBytes += result.Bytes.Length;
                    results.Add(new BatchItem(i, p, 200, result.MediaType, result.Width, result.Height, result.Bytes.Length,
                        ImageResponses.ETagFor(result.Bytes), Convert.ToBase64String(result.Bytes), null));
                }
                catch (Exception e) when (TransformTask.Refuses(e))
                {
                    var (status, title) = ProblemDetailsMapping.Classify(e);
                    results.Add(new BatchItem(i, p, status, null, null, null, null, null, null, new BatchError(title, e.Message)));
                }
            }
        }
        return TypedResults.Ok(new BatchResponse(images.Count, pipelines.Count, results));
    }

    /// <summary>
    /// The old service's batch: every image URL × every operation became one queued task. Here each is one transform job;
    /// every operation is checked, and every URL fetched, before any job is submitted, so a bad one changes nothing.
    /// </summary>
    private static async Task<IResult> ServiceBatchAsync(
        HttpRequest request, JsonElement json, JsonElement urls, TransformTask transform, JobService jobs, RemoteImageFetcher fetcher, CancellationToken cancellationToken)
    {
        const int MaxImages = 100; // the old service's max_items
        // Each image × operation is a job with its own copy of the image: 300 KB of operations must not queue 200 GB.
        const int MaxOperations = 20, MaxJobs = 1000;
        if (urls.ValueKind != JsonValueKind.Array || urls.GetArrayLength() is 0 or > MaxImages || urls.EnumerateArray().Any(u => u.ValueKind != JsonValueKind.String))
            throw new RequestValidationException($"image_urls must be a list of 1 to {MaxImages} URLs.", "image_urls");
        if (!json.TryGetProperty("operations", out var operations) || operations.ValueKind != JsonValueKind.Array
            || operations.EnumerateArray().Any(o => o.ValueKind != JsonValueKind.Object))
            throw new RequestValidationException("operations must be a list of objects such as {\"type\": \"resize\", \"width\": 300, \"height\": 200}.", "operations");
        if (operations.GetArrayLength() > MaxOperations || urls.GetArrayLength() * operations.GetArrayLength() > MaxJobs)
            throw new RequestValidationException(
                $"A batch has at most {MaxOperations} operations and {MaxJobs} image × operation tasks; got {operations.GetArrayLength()} operations for {urls.GetArrayLength()} URLs.", "operations");
        // An operation's "type" names the route here, not the filter as /api/v1/filter?type= does.
        var pipelines = operations.EnumerateArray()
            .Select(o => (Type: (FieldsOf(o)("type") ?? "").Trim().ToLowerInvariant(), Fields: FieldsOf(o)))
            .Select(o => OpsText(Operations(o.Type, name => name == "type" ? null : o.Fields(name))))
            .ToList();
        foreach (var ops in pipelines) transform.Read(ops);
        // A URL listed twice is fetched once, and all the fetches together hold at most 10 images' worth of bytes: 100
        // URLs of 20 MB each would be 2 GB in memory before a job is queued, and the same URL 100 times a flood on its host.
        var fetched = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        long total = 0;
        var images = new List<byte[]>();
        foreach (var url in urls.EnumerateArray().Select(u => u.GetString()!))
        {
            if (!fetched.TryGetValue(url, out var bytes))
            {
                fetched[url] = bytes = await FetchAsync(fetcher, url, cancellationToken);
                if ((total += bytes.Length) > transform.ImageLimits.MaxBytes * 10)
                    throw new RequestValidationException(
                        $"The images of image_urls add up to more than {transform.ImageLimits.MaxBytes * 10} bytes (10 × Images:MaxBytes); send fewer per batch.", "image_urls");
            }
            images.Add(bytes);
        }
        // In the old service's order (each image through each operation); its batch id was never looked up again.
        var taskIds = new List<string>();
        foreach (var image in images)
            foreach (var ops in pipelines)
                taskIds.Add((await SubmitTransformAsync(request, jobs, [image], ops, idempotent: false, cancellationToken)).Jobs[0].Id);
        return TypedResults.Ok(new QueuedBatchResponse(true, "Batch processing queued successfully", CorrelationId(request),
            Guid.NewGuid().ToString(), taskIds, taskIds.Count, null));
    }

    /// <summary>A batch over Transforms:MaxBatchItems: one durable transform job per image, each with every pipeline.</summary>
    private static async Task<Accepted<JobSubmissionResponse>> SubmitBatchJobsAsync(
        HttpRequest request, List<byte[]> images, List<string> ops, JobService jobs, CancellationToken cancellationToken)
    {
        if (ops.Any(o => o.Contains('|')))
            throw new InvalidRequestException("A pipeline of a batch that runs as jobs cannot contain '|', which separates pipelines there.", "ops");
        var result = await SubmitTransformAsync(request, jobs, images, string.Join('|', ops), idempotent: true, cancellationToken);
        var response = JobSubmissionResponse.From(result);
        return TypedResults.Accepted(result.BatchId is { } batch ? $"/v1/jobs?batch_id={batch}" : $"/v1/jobs/{response.Id}", response);
    }

    private static async Task<(List<byte[]> Images, List<string> Ops)> ReadBatchAsync(HttpRequest request, ImageLimits limits, CancellationToken cancellationToken)
    {
        if (request.HasFormContentType)
        {
            var form = await ImageUpload.ReadFormOrRefuseAsync(request, cancellationToken);
            var images = new List<byte[]>();
            foreach (var file in form.Files)
            {
                if (file.Length > limits.MaxBytes) throw new ImageTooLargeException(file.Length, limits.MaxBytes);
                using var buffer = new MemoryStream();
                await file.CopyToAsync(buffer, cancellationToken);
                images.Add(buffer.ToArray());
            }
            var ops = form["ops"].Where(o => o is not null).Select(o => o!).ToList();
            ops.AddRange(request.Query["ops"].Where(o => o is not null).Select(o => o!));
            return (images, ops);
        }
        if (IsJson(request))
        {
            using var document = await ParseJsonAsync(request, cancellationToken);
            var root = document.RootElement;
            var images = new List<byte[]>();
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("images", out var list) && list.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in list.EnumerateArray())
                {
                    var text = item.ValueKind == JsonValueKind.String ? item.GetString()! : "";
                    if (text.StartsWith("data:", StringComparison.OrdinalIgnoreCase) && text.IndexOf(',') is var comma and > 0) text = text[(comma + 1)..];
                    try
                    {
                        var bytes = Convert.FromBase64String(text);
                        if (bytes.Length > limits.MaxBytes) throw new ImageTooLargeException(bytes.Length, limits.MaxBytes);
                        images.Add(bytes);
                    }
                    catch (FormatException)
                    {
                        throw new InvalidRequestException($"images[{images.Count}] is not valid base64.", "images");
                    }
                }
            }
            var ops = new List<string>();
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("ops", out var opsElement))
            {
                if (opsElement.ValueKind == JsonValueKind.String) ops.Add(opsElement.GetString()!);
                else if (opsElement.ValueKind == JsonValueKind.Array)
                    ops.AddRange(opsElement.EnumerateArray().Select(o => o.ValueKind == JsonValueKind.String ? o.GetString()! : o.GetRawText()));
            }
            return (images, ops);
        }
        throw new UnsupportedImageFormatException("A batch is sent as multipart/form-data (image files plus ops fields) or as JSON {\"images\": [...], \"ops\": [...]}.");
    }

    // ---- upload ----------------------------------------------------------------------------------------------------

    private static async Task<IResult> UploadAsync(
        HttpRequest request, IrisOptions options, ImageTransformer transformer, ImageDecoder decoder, IBlobStore blobs, CancellationToken cancellationToken)
    {
        var upload = await ImageUpload.ReadAsync(request, transformer.ImageLimits, cancellationToken);
        var info = transformer.Inspect(upload.Bytes);
        // A sound header says nothing of the pixels behind it: a truncated or corrupt image would be stored, and fail
        // every later transform and job that names its id. Decoding it once (under the usual limits) refuses it now, 422.
        await decoder.DecodeAsync(upload.Bytes, cancellationToken);
        var id = await blobs.PutKeptAsync(upload.Bytes, Access.Owner(request.HttpContext.User), cancellationToken);
        var location = $"/v1/img/unsafe/-/{id}";
        var url = $"/v1/img/{{signature}}/-/{id}";
        // The old service's clients send the file as `file` and read task_id and result_url: they get those too.
        if (upload.Form is { } form && form.Files.GetFile("file") is not null && form.Files.GetFile("image") is null)
            return TypedResults.Created(location, new ServiceUploadResponse(id, info.Format.Name(), info.Width, info.Height, info.Frames, upload.Bytes.Length, url,
                true, "Image uploaded successfully", CorrelationId(request), id, "completed",
                Absolute(request, TransformJobProcessor.ServingUrl(options.Transforms, id, info.Format) ?? location), null));
        return TypedResults.Created(location, new UploadResponse(id, info.Format.Name(), info.Width, info.Height, info.Frames, upload.Bytes.Length, url));
    }

    // ---- AI routes -------------------------------------------------------------------------------------------------

    private static async Task<Ok<OcrServiceResponse>> OcrAsync(
        HttpRequest request, OcrTask task, ImageAnalyzer pipeline, ImageDecoder decoder, RemoteImageFetcher fetcher, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var (upload, _) = await ReadImageAsync(request, decoder.Limits, fetcher, cancellationToken);
        string? Field(string name) => upload.Parameter(request, name);
        var withConfidence = Field("extract_confidence") is not { } extract || Bool(extract, "extract_confidence");
        if (Field("detect_orientation") is { } orientation) Bool(orientation, "detect_orientation");
        var result = (await pipeline.RunAsync(task, task.Read(upload.Parameters(request)), upload.Bytes, cancellationToken)).Result;
        var lines = result.Lines.Select(l =>
        {
            var box = Box(l.Polygon.Min(p => p.X), l.Polygon.Min(p => p.Y), l.Polygon.Max(p => p.X), l.Polygon.Max(p => p.Y), l.Confidence);
            return new OcrServiceLine(l.Text, withConfidence ? Round(l.Confidence) : null, box);
        }).ToList();
        return TypedResults.Ok(new OcrServiceResponse(true, "OCR processing completed successfully", CorrelationId(request),
            Guid.NewGuid().ToString(), lines, Seconds(clock), null));
    }

    private static async Task<Ok<DetectionServiceResponse>> DetectObjectsAsync(
        HttpRequest request, DetectTask task, ImageAnalyzer pipeline, ImageDecoder decoder, RemoteImageFetcher fetcher, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var (upload, url) = await ReadImageAsync(request, decoder.Limits, fetcher, cancellationToken);
        var (threshold, max) = DetectionFields(upload, request);
        // A set: the list is as long as the body allows, and every detection is looked up in it.
        var classes = Strings(upload, request, "classes_filter").ToHashSet(StringComparer.Ordinal);
        // The old service counted max_detections after its class filter: ask the model for all, then keep as many.
        var parameters = new DetectTask.Parameters(upload.Parameter(request, "model") ?? task.Default.Model,
            new DetectionParameters(threshold, classes.Count > 0 ? DetectTask.MaxDetectionsLimit : max));
        var result = (await pipeline.RunAsync(task, parameters, upload.Bytes, cancellationToken)).Result;
        var objects = result.Objects
            .Where(o => classes.Count == 0 || classes.Contains(o.Label))
            .OrderByDescending(o => o.Confidence).Take(max)
            .Select(o => new ServiceObject(o.Label, Round(o.Confidence), Box(o.Box, o.Confidence))).ToList();
        return TypedResults.Ok(new DetectionServiceResponse(true, "Object detection completed successfully", CorrelationId(request),
            Guid.NewGuid().ToString(), objects, Seconds(clock), url));
    }

    private static async Task<Ok<DetectionServiceResponse>> DetectFacesAsync(
        HttpRequest request, FacesTask task, ImageAnalyzer pipeline, ImageDecoder decoder, RemoteImageFetcher fetcher, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var (upload, url) = await ReadImageAsync(request, decoder.Limits, fetcher, cancellationToken);
        var (threshold, max) = DetectionFields(upload, request);
        var parameters = new FacesTask.Parameters(upload.Parameter(request, "model") ?? task.Default.Model, new FaceDetectionParameters(threshold, max));
        var result = (await pipeline.RunAsync(task, parameters, upload.Bytes, cancellationToken)).Result;
        var faces = result.Faces.OrderByDescending(f => f.Confidence)
            .Select(f => new ServiceObject("face", Round(f.Confidence), Box(f.Box, f.Confidence))).ToList();
        return TypedResults.Ok(new DetectionServiceResponse(true, "Face detection completed successfully", CorrelationId(request),
            Guid.NewGuid().ToString(), faces, Seconds(clock), url));
    }

    /// <summary>The old service's ObjectDetectionRequest fields and ranges: confidence_threshold 0.1–1 (0.5), max_detections 1–1000 (100).</summary>
    private static (float Threshold, int Max) DetectionFields(ImageUpload upload, HttpRequest request)
    {
        var threshold = upload.Parameter(request, "confidence_threshold") is { } t ? Number(t, "confidence_threshold", 0.1f, 1f) : 0.5f;
        var max = upload.Parameter(request, "max_detections") is { } m ? (int)Number(m, "max_detections", 1, 1000, whole: true) : 100;
        return (threshold, max);
    }

    private static async Task<Ok<ImageInfoServiceResponse>> ImageInfoAsync(
        HttpRequest request, InfoTask task, ImageAnalyzer pipeline, ImageDecoder decoder, RemoteImageFetcher fetcher, CancellationToken cancellationToken)
    {
        if (HttpMethods.IsGet(request.Method) && request.Query["image_url"].ToString().Length == 0)
            throw new RequestValidationException("image_url is required: GET /api/v1/image-info?image_url=https://example.com/photo.jpg.", "image_url");
        var (upload, url) = await ReadImageAsync(request, decoder.Limits, fetcher, cancellationToken);
        var info = (await pipeline.RunAsync(task, task.Read(upload.Parameters(request)), upload.Bytes, cancellationToken)).Result;
        var stats = info.Statistics;
        var details = new ServiceImageInfo(
            info.Format.ToUpperInvariant(), Mode(info.Channels, info.HasAlpha), [info.Width, info.Height], info.Width, info.Height, info.HasAlpha,
            info.FileBytes, info.Exif,
            new ServiceColorAnalysis(stats.DominantColors.Select(c => new[] { c.R, c.G, c.B }).ToList(), stats.Brightness, stats.Contrast, stats.Colorfulness));
        return TypedResults.Ok(new ImageInfoServiceResponse(true, details, url));
    }

    /// <summary>The Pillow mode name its clients read: L, LA, RGB, RGBA or CMYK.</summary>
    private static string Mode(int channels, bool alpha) => (channels - (alpha ? 1 : 0)) switch
    {
        1 => alpha ? "LA" : "L",
        4 => "CMYK",
        _ => alpha ? "RGBA" : "RGB",
    };

    // ---- tasks and probes ------------------------------------------------------------------------------------------

    private static async Task<Ok<TaskStatusResponse>> TaskAsync(
        string task_id, HttpRequest request, ClaimsPrincipal user, JobService jobs, CancellationToken cancellationToken)
    {
        // Its clients may hold the id in the dashed UUID form; Iris writes it as 32 hex digits.
        var id = Guid.TryParse(task_id, out var guid) ? guid.ToString("N") : task_id;
        Job job;
        try
        {
            job = await jobs.GetAsync(id, Access.Owner(user), cancellationToken);
        }
        catch (JobNotFoundException) when (id != task_id)
        {
            job = await jobs.GetAsync(task_id, Access.Owner(user), cancellationToken);
        }
        var (status, progress) = job.Status switch
        {
            JobStatus.Queued => ("pending", 0),
            JobStatus.Processing => ("processing", 50),
            JobStatus.Done => ("completed", 100),
            _ => ("failed", 100),
        };
        var error = job.Status == JobStatus.Canceled ? job.Error ?? "The task was canceled." : job.Status == JobStatus.Failed ? job.Error : null;
        return TypedResults.Ok(new TaskStatusResponse(task_id, status, Timestamp(job.CreatedAt), Timestamp(job.UpdatedAt), progress, error,
            job.Status == JobStatus.Done ? ResultOf(request, job.Result) : null));
    }

    /// <summary>The job's result document; a transform's first output is also its <c>result_url</c>, where the old service put the processed image.</summary>
    private static JsonObject? ResultOf(HttpRequest request, string? document)
    {
        if (document is null || JsonNode.Parse(document) is not JsonObject result) return null;
        if (result["transform"]?["outputs"] is JsonArray { Count: > 0 } outputs && outputs[0]?["url"]?.GetValue<string>() is { } url)
            result["result_url"] = Absolute(request, url);
        return result;
    }

    /// <summary>Its clients fetch result_url as it is (Python's requests refuses a URL without a scheme): absolute, on the host they called.</summary>
    private static string Absolute(HttpRequest request, string path) => $"{request.Scheme}://{request.Host}{request.PathBase}{path}";

    /// <summary>Python's isoformat with microseconds and a Z, which every ISO 8601 parser its clients use reads.</summary>
    private static string Timestamp(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    private static Ok<LivenessResponse> Live()
    {
        using var process = Process.GetCurrentProcess();
        var started = process.StartTime.ToUniversalTime();
        return TypedResults.Ok(new LivenessResponse("alive", Timestamp(DateTimeOffset.UtcNow), "iris",
            typeof(ImageProcessingFacade).Assembly.GetName().Version?.ToString() ?? "0", Math.Round((DateTime.UtcNow - started).TotalSeconds, 2)));
    }

    // ---- reading the old service's requests ------------------------------------------------------------------------

    /// <summary>
    /// The image a call names: <c>image_url</c> (a JSON field, form field or query parameter) fetched under Sources:*, or
    /// the image itself. With neither, the old service's 400 "image_url is required".
    /// </summary>
    private static async Task<(ImageUpload Upload, string? Url)> ReadImageAsync(
        HttpRequest request, ImageLimits limits, RemoteImageFetcher fetcher, CancellationToken cancellationToken)
    {
        if (await ReadServiceJsonAsync(request, cancellationToken) is { } json)
        {
            if (Text(json, "image_url") is { } jsonUrl)
                return (new ImageUpload(await FetchAsync(fetcher, jsonUrl, cancellationToken), null, null) { Json = json }, jsonUrl);
            if (!json.TryGetProperty("image", out _) && request.Query["image_url"].ToString().Length == 0)
                throw MissingImage();
            request.Body.Position = 0;
        }
        IFormCollection? form = null;
        if (request.HasFormContentType)
        {
            form = await ImageUpload.ReadFormOrRefuseAsync(request, cancellationToken);
            if (form.Files.Count == 0 && form["image_url"].ToString() is { Length: > 0 } formUrl)
                return (new ImageUpload(await FetchAsync(fetcher, formUrl, cancellationToken), null, form), formUrl);
        }
        if (request.Query["image_url"].ToString() is { Length: > 0 } queryUrl)
            return (new ImageUpload(await FetchAsync(fetcher, queryUrl, cancellationToken), null, form), queryUrl);
        if (form is null && request.ContentLength is null or 0 && string.IsNullOrEmpty(request.ContentType))
            throw MissingImage();
        return (await ImageUpload.ReadAsync(request, limits, cancellationToken), null);
    }

    private static InvalidRequestException MissingImage() => new(
        "image_url is required: send {\"image_url\": \"https://…\"}, or the image itself (multipart field 'file' or 'image', a raw image body, or JSON {\"image\": \"<base64>\"}).",
        "image_url");

    /// <summary>A JSON object body, read so that the body can be read again; null when the request is not JSON.</summary>
    private static async Task<JsonElement?> ReadServiceJsonAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (!IsJson(request)) return null;
        request.EnableBuffering();
        using var document = await ParseJsonAsync(request, cancellationToken);
        request.Body.Position = 0;
        if (document.RootElement.ValueKind != JsonValueKind.Object)
            throw new RequestValidationException("The JSON body must be an object.", "body");
        return document.RootElement.Clone();
    }

    private static async Task<JsonDocument> ParseJsonAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken);
        }
        catch (JsonException e)
        {
            throw new InvalidRequestException($"The JSON body is not valid JSON: {e.Message}");
        }
    }

    private static bool IsJson(HttpRequest request) => (request.ContentType ?? "").StartsWith("application/json", StringComparison.OrdinalIgnoreCase);

    private static async Task<byte[]> FetchAsync(RemoteImageFetcher fetcher, string raw, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(raw, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
            throw new InvalidRequestException($"image_url must be an absolute http(s) URL; got '{(raw.Length > 100 ? raw[..100] + "…" : raw)}'.", "image_url");
        return await fetcher.FetchAsync(url, cancellationToken);
    }

    private static string? Text(JsonElement json, string name) =>
        json.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text ? text : null;

    /// <summary>A JSON object's scalar fields as text, as the transform routes read their parameters.</summary>
    private static Func<string, string?> FieldsOf(JsonElement json) => name =>
        json.TryGetProperty(name, out var value) ? value.ValueKind switch
        {
            JsonValueKind.String => value.GetString() is { Length: > 0 } text ? text : null,
            JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
            _ => null,
        } : null;

    /// <summary>A list field: a JSON array of strings, repeated form or query values, or a comma-separated string.</summary>
    private static List<string> Strings(ImageUpload upload, HttpRequest request, string name)
    {
        if (upload.Json is { ValueKind: JsonValueKind.Object } json && json.TryGetProperty(name, out var list) && list.ValueKind == JsonValueKind.Array)
            return list.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText()).ToList();
        return (upload.Parameter(request, name) ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToList();
    }

    private static float Number(string text, string name, float min, float max, bool whole = false)
    {
        var valid = float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
                    && value >= min && value <= max && (!whole || value == MathF.Floor(value));
        return valid ? value : throw new RequestValidationException(
            $"{name} must be {(whole ? "a whole number" : "a number")} between {min.ToString(CultureInfo.InvariantCulture)} and {max.ToString(CultureInfo.InvariantCulture)}; got '{text}'.", name);
    }

    private static bool Bool(string text, string name) => text.Trim().ToLowerInvariant() switch
    {
        "true" or "1" or "yes" or "on" => true,
        "false" or "0" or "no" or "off" => false,
        _ => throw new RequestValidationException($"{name} must be true or false; got '{text}'.", name),
    };

    private static string? CorrelationId(HttpRequest request) => request.Headers["X-Correlation-ID"].ToString() is { Length: > 0 } id ? id : null;

    private static double Seconds(Stopwatch clock) => Math.Round(clock.Elapsed.TotalSeconds, 4);

    private static double Round(float value) => Math.Round(value, 4);

    private static ServiceBox Box(BoundingBox box, float confidence) => Box(box.XMin, box.YMin, box.XMax, box.YMax, confidence);

    private static ServiceBox Box(float x1, float y1, float x2, float y2, float confidence) =>
        new(Math.Round(x1, 2), Math.Round(y1, 2), Math.Round(x2, 2), Math.Round(y2, 2), Round(confidence));

    // ---- the old service's response shapes -------------------------------------------------------------------------

    public sealed record QueuedTaskResponse(bool Success, string Message, string? CorrelationId, string TaskId, string Status, string? ResultUrl, double? ProcessingTime);

    public sealed record QueuedBatchResponse(bool Success, string Message, string? CorrelationId, string BatchId, IReadOnlyList<string> TaskIds, int TotalTasks,
        string? EstimatedCompletionTime);

    public sealed record ServiceBox(double X1, double Y1, double X2, double Y2, double Confidence);

    public sealed record ServiceObject(string ClassName, double Confidence, ServiceBox Bbox);

    public sealed record DetectionServiceResponse(bool Success, string Message, string? CorrelationId, string TaskId, IReadOnlyList<ServiceObject> Objects,
        double ProcessingTime, string? ImageUrl);

    public sealed record OcrServiceLine(string Text, double? Confidence, ServiceBox Bbox);

    public sealed record OcrServiceResponse(bool Success, string Message, string? CorrelationId, string TaskId, IReadOnlyList<OcrServiceLine> Results,
        double ProcessingTime, string? DetectedLanguage);

    public sealed record ServiceColorAnalysis(IReadOnlyList<int[]> DominantColors, double Brightness, double Contrast, double Colorfulness);

    public sealed record ServiceImageInfo(string Format, string Mode, int[] Size, int Width, int Height, bool HasTransparency, long FileSize,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ExifData? Exif, ServiceColorAnalysis ColorAnalysis);

    public sealed record ImageInfoServiceResponse(bool Success, ServiceImageInfo ImageInfo, string? SourceUrl);

    public sealed record TaskStatusResponse(string TaskId, string Status, string CreatedAt, string UpdatedAt, int Progress, string? ErrorMessage, JsonObject? Result);

    public sealed record LivenessResponse(string Status, string Timestamp, string Service, string Version, double UptimeSeconds);

    /// <summary>Iris's upload answer with the old service's fields beside it.</summary>
    public sealed record ServiceUploadResponse(string Id, string Format, int Width, int Height, int Frames, long Bytes, string Url,
        bool Success, string Message, string? CorrelationId, string TaskId, string Status, string ResultUrl, double? ProcessingTime);
}

public sealed record BatchResponse(int Images, int Pipelines, IReadOnlyList<BatchItem> Results);

/// <summary>One image × pipeline: the result as base64 with its type and size, or the error it met.</summary>
public sealed record BatchItem(
    int Image, int Pipeline, int Status, string? ContentType, int? Width, int? Height, int? Bytes, string? Etag, string? Data, BatchError? Error);

public sealed record BatchError(string Title, string Detail);

/// <summary>A stored image: its id for /v1/img URLs, and what its header says.</summary>
public sealed record UploadResponse(string Id, string Format, int Width, int Height, int Frames, long Bytes, string Url);
