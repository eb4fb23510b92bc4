using System.Diagnostics;
using Iris.Contracts;
using Iris.Core.Imaging;
using Iris.Core.Tasks;
using Iris.Core.Tasks.Ocr;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.OpenApi;

namespace Iris.Http;

public static class OcrApi
{
    public static IEndpointRouteBuilder MapOcrApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/ocr", ReadAsync)
            .WithName("Ocr")
            .WithTags("Understand")
            .WithSummary("Read the text in an image (OCR)")
            .WithDescription(
                "PP-OCRv4: finds text lines, turns upside-down ones, and reads them (Chinese and Latin script). " +
                "Send the image as multipart/form-data (field `image` or `file`), as a raw body with an image/* or " +
                "application/octet-stream type, or as JSON `{\"image\": \"<base64>\"}`. Parameters (query string or form fields): " +
                "`model` (default Ocr:Model), `min_confidence` 0–1 (default Ocr:MinConfidence, 0.5): lines read with less confidence are dropped. " +
                "Returns the text (rows joined by newlines, boxes on one row by spaces) and each line with its confidence and " +
                "polygon (4 corners in pixels of the image as displayed, after EXIF orientation, clockwise from top-left).")
            .AddOpenApiOperationTransformer(ImageRequestBody.Describe)
            .AddOpenApiOperationTransformer(QueryParameters.Describe(
                new("model", JsonSchemaType.String, "OCR model (default Ocr:Model, ppocr-v4)."),
                new("min_confidence", JsonSchemaType.Number, "Drop lines read with less confidence, 0–1 (default 0.5).")))
            .AsImageRoute();
        return app;
    }

    private static async Task<Ok<OcrResponse>> ReadAsync(
        HttpRequest request, OcrTask task, ImageAnalyzer pipeline, ImageDecoder decoder, CancellationToken cancellationToken)
    {
        var total = Stopwatch.StartNew();
        var upload = await ImageUpload.ReadAsync(request, decoder.Limits, cancellationToken);
        var run = await pipeline.RunAsync(task, task.Read(upload.Parameters(request)), upload.Bytes, cancellationToken);
        return TypedResults.Ok(OcrResponse.From(run.Result, run.DecodeMs, total.Elapsed.TotalMilliseconds));
    }
}
