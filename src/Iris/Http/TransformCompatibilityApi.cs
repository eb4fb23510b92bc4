using System.Text.Json;
using Iris.Configuration;
using Iris.Contracts;
using Iris.Core.Imaging;
using Iris.Core.Jobs;
using Iris.Core.Tasks.Transforms;
using Iris.Core.Transforms;
using Iris.Jobs;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Iris.Http;

/// <summary>
/// The <c>/api/v1/…</c> routes of earlier image services: one operation per route with plain query or form parameters
/// (<c>/api/v1/resize?width=800&amp;format=webp</c>), mapped onto the same pipeline as <c>/v1/transform</c>, plus a
/// bounded synchronous batch. Large batches will become durable jobs once those exist (issue #5).
/// </summary>
public static class TransformCompatibilityApi
{
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

    public static IEndpointRouteBuilder MapTransformCompatibilityApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1").WithTags("Transform (compatibility)");
        Describe(group.MapPost("/resize", (HttpContext c, TransformTask t, CancellationToken ct) =>
                SingleAsync(c, t, u => [Call("resize", c.Request, u, ResizeParameters)], ct)),
            "CompatResize", "Resize an image",
            "Parameters: width, height (1–100000; at least one), fit (inside|contain|cover|fill|outside, default inside), enlarge, kernel, gravity, background; output: format, quality.");
        Describe(group.MapPost("/crop", (HttpContext c, TransformTask t, CancellationToken ct) =>
                SingleAsync(c, t, u => [Call("crop", c.Request, u, CropParameters)], ct)),
            "CompatCrop", "Crop an image",
            "Parameters: x, y, width, height (a rectangle), or width, height and gravity (centre, north, …, attention or entropy for smart crop); output: format, quality.");
        Describe(group.MapPost("/filter", (HttpContext c, TransformTask t, CancellationToken ct) =>
                SingleAsync(c, t, u => [Call(FilterName(c.Request, u), c.Request, u, FilterParameters)], ct)),
            "CompatFilter", "Apply a filter",
            $"Parameters: filter ({string.Join(", ", Filters)}), and as the filter takes them radius, sigma, size, amount, method; output: format, quality.");
        Describe(group.MapPost("/enhance", (HttpContext c, TransformTask t, CancellationToken ct) =>
                SingleAsync(c, t, u => [Call("enhance", c.Request, u, EnhanceParameters)], ct)),
            "CompatEnhance", "Adjust brightness, contrast, saturation, sharpness, gamma or normalise",
            "Parameters: brightness, contrast, saturation, sharpness (factors 0–10, 1 = unchanged), gamma (0.1–10), normalize (true/false); output: format, quality.");
        group.MapPost("/batch", BatchAsync)
            .WithName("CompatBatch")
            .WithSummary("Transform several images with several pipelines")
            .WithDescription(
                "multipart/form-data with any number of image files and one or more `ops` fields, or JSON `{\"images\": [base64…], \"ops\": [\"…\", …]}`. " +
                "Every image is run through every pipeline; the answer lists each result (base64 data) or its error. At most Transforms:MaxBatchItems " +
                "images × pipelines answer at once (200), all within the request body limit. A larger batch runs as durable jobs: 202 with " +
                "one `transform` job per image (a batch; Location lists it), each keeping its outputs in the image store (the job result " +
                "lists their ids and /v1/img URLs); an `Idempotency-Key` header makes a repeated request return the same jobs.")
            .Produces<BatchResponse>(StatusCodes.Status200OK)
            .Produces<JobSubmissionResponse>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .DisableAntiforgery();
        return app;
    }

    private static void Describe(RouteHandlerBuilder route, string name, string summary, string description) =>
        route.WithName(name).WithSummary(summary)
            .WithDescription("Same image envelopes as /v1/transform; parameters come from the query string or form fields. " + description)
            .AddOpenApiOperationTransformer(ImageRequestBody.Describe)
            .AddOpenApiOperationTransformer(ImageResponses.DescribeImage)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .DisableAntiforgery();

    private static async Task<Results<FileContentHttpResult, StatusCodeHttpResult>> SingleAsync(
        HttpContext context, TransformTask transform, Func<ImageUpload, OperationCall[]> operations, CancellationToken cancellationToken)
    {
        var upload = await ImageUpload.ReadAsync(context.Request, transform.ImageLimits, cancellationToken);
        var calls = operations(upload).ToList();
        var output = new List<KeyValuePair<string, string>>();
        if (upload.Parameter(context.Request, "format") is { } format) output.Add(new("type", format));
        if (upload.Parameter(context.Request, "quality") is { } quality) output.Add(new("q", quality));
        if (output.Count > 0) calls.Add(new OperationCall("format", output));
        var parameters = transform.Read(calls, context.Request.Headers.Accept.ToString());
        var result = await transform.RunAsync(parameters, upload.Bytes, cancellationToken);
        return ImageResponses.Send(context, result, varyOnAccept: parameters.DependsOnAccept);
    }

    private static OperationCall Call(string op, HttpRequest request, ImageUpload upload, (string Parameter, string Argument)[] parameters) =>
        new(op, parameters
            .Select(p => (p.Argument, Value: upload.Parameter(request, p.Parameter)))
            .Where(p => p.Value is not null)
            .Select(p => new KeyValuePair<string, string>(p.Argument, p.Value!))
            .ToList());

    private static string FilterName(HttpRequest request, ImageUpload upload)
    {
        var name = upload.Parameter(request, "filter") ?? upload.Parameter(request, "type");
        if (name is null || !Filters.Contains(name, StringComparer.OrdinalIgnoreCase))
            throw new InvalidRequestException($"filter must be one of {string.Join(", ", Filters)}; got '{name}'.", "filter");
        return name.ToLowerInvariant();
    }

    private static async Task<Results<Ok<BatchResponse>, Accepted<JobSubmissionResponse>>> BatchAsync(
        HttpRequest request, IrisOptions options, TransformTask transform, JobService jobs, CancellationToken cancellationToken)
    {
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
        for (var i = 0; i < images.Count; i++)
        {
            for (var p = 0; p < pipelines.Count; p++)
            {
                try
                {
                    var result = await transform.RunAsync(pipelines[p], images[i], cancellationToken);
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

    /// <summary>A batch over Transforms:MaxBatchItems: one durable transform job per image, each with every pipeline.</summary>
    private static async Task<Accepted<JobSubmissionResponse>> SubmitBatchJobsAsync(
        HttpRequest request, List<byte[]> images, List<string> ops, JobService jobs, CancellationToken cancellationToken)
    {
        if (ops.Any(o => o.Contains('|')))
            throw new InvalidRequestException("A pipeline of a batch that runs as jobs cannot contain '|', which separates pipelines there.", "ops");
        var key = request.Headers["Idempotency-Key"].ToString();
        if (key.Length > 255) throw new InvalidRequestException("The Idempotency-Key header must be at most 255 characters.", "Idempotency-Key");
        var submission = new JobSubmission(
            images.Select((bytes, i) => new JobInputImage(bytes, $"image-{i}")).ToList(),
            [TransformJobProcessor.TaskName],
            new Dictionary<string, string> { ["ops"] = string.Join('|', ops) },
            key.Length == 0 ? null : key,
            Owner: Security.Access.Owner(request.HttpContext.User));
        var result = await jobs.SubmitAsync(submission, cancellationToken);
        var response = JobSubmissionResponse.From(result);
        if (result.Replayed) request.HttpContext.Response.Headers["Idempotent-Replayed"] = "true";
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
        if ((request.ContentType ?? "").StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
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
}

public sealed record BatchResponse(int Images, int Pipelines, IReadOnlyList<BatchItem> Results);

/// <summary>One image × pipeline: the result as base64 with its type and size, or the error it met.</summary>
public sealed record BatchItem(
    int Image, int Pipeline, int Status, string? ContentType, int? Width, int? Height, int? Bytes, string? Etag, string? Data, BatchError? Error);

public sealed record BatchError(string Title, string Detail);
