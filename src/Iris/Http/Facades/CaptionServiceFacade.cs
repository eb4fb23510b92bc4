using System.Text.Json;
using System.Text.RegularExpressions;
using Iris.Core.Imaging;
using Iris.Core.Tasks;
using Iris.Core.Tasks.Captioning;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Iris.Http.Facades;

/// <summary>
/// The REST contract of the flower captioning service (seed 000, FlowerEvolver-describe), so its clients switch to Iris
/// by changing the URL: <c>POST /api/v1/describe/file</c> (multipart field <c>image</c>) and
/// <c>POST /api/v1/describe/dataurl</c> (<c>{"data_url": "data:image/png;base64,…"}</c>) both answer
/// <c>{"description": "…"}</c> from the <c>describe</c> task with Captioning:Model. Its status codes are kept: a missing
/// field is 422, a file that is not an image 400 "Invalid file type", a malformed data URL or base64 400; the bodies
/// are problem+json, whose <c>detail</c> is where that service put its message.
/// </summary>
public static partial class CaptionServiceFacade
{
    private const string Prefix = "/api/v1/describe";

    public sealed record DescriptionResponse(string Description);

    public static IEndpointRouteBuilder MapCaptionServiceFacade(this IEndpointRouteBuilder app)
    {
        var describe = app.MapGroup(Prefix).WithTags("Compatibility: captioning service").DisableAntiforgery();
        describe.MapPost("/file", DescribeFileAsync)
            .WithName("CaptionServiceDescribeFile")
            .WithSummary("Caption an uploaded image (captioning service /api/v1/describe/file)")
            .WithDescription("multipart/form-data with the image in `image`. Answers `{\"description\": \"…\"}` with the default captioner " +
                             "(Captioning:Model). No `image` field: 422; a part whose type is not an image, or bytes that are not one: 400 " +
                             "\"Invalid file type\".")
            .AsImageRoute();
        describe.MapPost("/dataurl", DescribeDataUrlAsync)
            .WithName("CaptionServiceDescribeDataUrl")
            .WithSummary("Caption an image sent as a data URL (captioning service /api/v1/describe/dataurl)")
            .WithDescription("JSON `{\"data_url\": \"data:image/png;base64,…\"}`. Answers `{\"description\": \"…\"}`. No or empty `data_url`, or a " +
                             "body that is not JSON: 422; not a `data:image/…;base64,` URL: 400 \"Invalid data URL format\"; bad base64: 400.")
            .AsImageRoute();
        return app;
    }

    private static async Task<Ok<DescriptionResponse>> DescribeFileAsync(
        HttpRequest request, DescribeTask task, ImageAnalyzer pipeline, ImageDecoder decoder, CancellationToken cancellationToken)
    {
        var form = request.HasFormContentType ? await ImageUpload.ReadFormOrRefuseAsync(request, cancellationToken) : null;
        if (form?.Files.GetFile("image") is not { Length: > 0 } file)
            throw new CaptionRequestException(422, "Field required: send the image as multipart/form-data in the 'image' field.", "image");
        // The service looked only at the part's declared type; a generic one is left to the bytes to decide.
        if (file.ContentType is { Length: > 0 } declared && !declared.StartsWith("image/", StringComparison.OrdinalIgnoreCase)
            && !declared.StartsWith("application/octet-stream", StringComparison.OrdinalIgnoreCase))
            throw new CaptionRequestException(400, $"Invalid file type. The 'image' part is {declared}; send an image (image/jpeg, image/png, …).", "image");
        var upload = await ImageUpload.ReadAsync(request, decoder.Limits, cancellationToken);
        return TypedResults.Ok(await DescribeAsync(upload.Bytes, task, pipeline, cancellationToken));
    }

    private static async Task<Ok<DescriptionResponse>> DescribeDataUrlAsync(
        HttpRequest request, DescribeTask task, ImageAnalyzer pipeline, ImageDecoder decoder, CancellationToken cancellationToken)
    {
        var dataUrl = await ReadDataUrlAsync(request, cancellationToken);
        var comma = dataUrl.IndexOf(',');
        // Matched on the header alone: the payload may be megabytes.
        if (comma < 0 || comma == dataUrl.Length - 1 || !DataUrlHeader().IsMatch(dataUrl.AsSpan(0, comma)))
            throw new CaptionRequestException(400, "Invalid data URL format. Expected data:image/<type>;base64,<data>.", "data_url");
        var bytes = ImageUpload.DecodeBase64(dataUrl[(comma + 1)..], decoder.Limits, "data_url", "Invalid Base64 encoding in 'data_url'.");
        return TypedResults.Ok(await DescribeAsync(bytes, task, pipeline, cancellationToken));
    }

    private static async Task<DescriptionResponse> DescribeAsync(byte[] image, DescribeTask task, ImageAnalyzer pipeline, CancellationToken cancellationToken)
    {
        // The service had no parameters: Captioning:Model with the model's own generation settings.
        var run = await pipeline.RunAsync(task, task.Read(ParameterReader.None), image, cancellationToken);
        return new DescriptionResponse(run.Result.Captions[0].Text);
    }

    private static async Task<string> ReadDataUrlAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken);
        }
        catch (JsonException e)
        {
            throw new CaptionRequestException(422, $"The body must be JSON {{\"data_url\": \"data:image/png;base64,…\"}}: {e.Message}", "data_url");
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("data_url", out var field)
                || field.ValueKind is JsonValueKind.Null)
                throw new CaptionRequestException(422, "Field required: data_url.", "data_url");
            if (field.ValueKind != JsonValueKind.String)
                throw new CaptionRequestException(422, "data_url must be a string (data:image/png;base64,…).", "data_url");
            var dataUrl = field.GetString()!;
            return dataUrl.Length > 0 ? dataUrl : throw new CaptionRequestException(422, "Data URL contains no image data.", "data_url");
        }
    }

    [GeneratedRegex("^data:image/[a-z0-9.+-]+;base64$", RegexOptions.IgnoreCase)]
    private static partial Regex DataUrlHeader();

    /// <summary>A request this contract refuses with its own status (422 for a missing field, as the service's validation did).</summary>
    private sealed class CaptionRequestException(int status, string detail, string field) : Exception(detail)
    {
        public int Status { get; } = status;
        public string Field { get; } = field;
    }

    public sealed record Problem(int Status, string Title, string Detail, string? Parameter);

    /// <summary>
    /// The problems of these routes as the service answered them, for <see cref="ProblemDetailsMapping"/>: its own refusals,
    /// and bytes that are not an image as 400 "Invalid file type" (Iris's 415 elsewhere). Null outside these routes.
    /// </summary>
    public static Problem? Classify(HttpRequest request, Exception exception) =>
        !request.Path.StartsWithSegments(Prefix) ? null : exception switch
        {
            CaptionRequestException e => new(e.Status, e.Status == 422 ? "Unprocessable request" : "Invalid request", e.Message, e.Field),
            UnsupportedImageFormatException e => new(400, "Invalid file type", "Invalid file type. " + e.Message,
                request.Path.Value!.EndsWith("/dataurl", StringComparison.Ordinal) ? "data_url" : "image"),
            _ => null,
        };
}
