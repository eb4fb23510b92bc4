using System.Diagnostics;
using Iris.Configuration;
using Iris.Contracts;
using Iris.Core.Imaging;
using Iris.Core.Tasks;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Iris.Http;

public static class AnalyzeApi
{
    public static IEndpointRouteBuilder MapAnalyzeApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/analyze", AnalyzeAsync)
            .WithName("Analyze")
            .WithTags("Understand")
            .WithSummary("Run several tasks on one image, decoded once")
            .WithDescription(
                "`tasks` is a comma-separated list of detect, faces, classify, ocr, describe and info (default Analyze:DefaultTasks). The image is " +
                "decoded once and every task reads the same pixels; tasks without a model run beside the model tasks. The response " +
                "has one section per task, named after it and shaped like that task's own route, plus `timings_ms` per task. " +
                "Per-task parameters carry the task's prefix: `detect_model`, `detect_min_confidence`, `detect_max_detections`, " +
                "`faces_model`, `faces_min_confidence`, `faces_max_faces`, `classify_model`, `classify_top_k`, " +
                "`classify_min_confidence`, `ocr_model`, `ocr_min_confidence`, `describe_model`, `describe_num_beams`, …, `include_gps`. " +
                "Every task's parameters are checked, also those of tasks not requested, so a typo is a 400 naming it. " +
                "An unknown task name is a 400 that lists the valid ones.")
            .AddOpenApiOperationTransformer(ImageRequestBody.Describe)
            .AsImageRoute();
        return app;
    }

    private static async Task<Ok<AnalyzeResponse>> AnalyzeAsync(
        HttpRequest request, IrisOptions options, ImageDecoder decoder, ImageAnalyzer analyzer, CancellationToken cancellationToken)
    {
        var total = Stopwatch.StartNew();
        // Task names in the query are checked before the body is read: a typo costs nothing.
        var queryTasks = request.Query["tasks"].ToString();
        var tasks = queryTasks.Length > 0 ? analyzer.Resolve(queryTasks) : null;
        var upload = await ImageUpload.ReadAsync(request, decoder.Limits, cancellationToken);
        tasks ??= analyzer.Resolve(upload.Parameter(request, "tasks") ?? options.Analyze.DefaultTasks);
        var result = await analyzer.AnalyzeAsync(upload.Bytes, tasks, upload.Parameters(request), cancellationToken);
        return TypedResults.Ok(AnalyzeResponse.From(result, total.Elapsed.TotalMilliseconds));
    }
}
