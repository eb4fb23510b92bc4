using System.Diagnostics;
using Iris.Contracts;
using Iris.Core.Imaging;
using Iris.Core.Tasks;
using Iris.Core.Tasks.Moderation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.OpenApi;

namespace Iris.Http;

public static class ModerateApi
{
    public static IEndpointRouteBuilder MapModerateApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/moderate", ModerateAsync)
            .WithName("Moderate")
            .WithTags("Understand")
            .WithSummary("Judge whether an image is safe (content safety)")
            .WithDescription(
                "Runs a content-safety classifier (default Moderation:Model, nsfw-mobilenet-v2) and answers the probability of each " +
                "class (Drawing, Hentai, Neutral, Porn, Sexy), `safe`, and `flagged`: the classes whose probability is above their " +
                "threshold (Moderation:PornThreshold 0.5, HentaiThreshold 0.5, SexyThreshold 0.8; per request `porn_threshold`, " +
                "`hentai_threshold`, `sexy_threshold`). Send the image as for /v1/detect.")
            .AddOpenApiOperationTransformer(ImageRequestBody.Describe)
            .AddOpenApiOperationTransformer(QueryParameters.Describe(
                new("model", JsonSchemaType.String, "Content-safety model (default Moderation:Model, nsfw-mobilenet-v2)."),
                new("porn_threshold", JsonSchemaType.Number, "Porn above this is unsafe, 0–1 (default 0.5)."),
                new("hentai_threshold", JsonSchemaType.Number, "Hentai above this is unsafe, 0–1 (default 0.5)."),
                new("sexy_threshold", JsonSchemaType.Number, "Sexy above this is unsafe, 0–1 (default 0.8).")))
            .AsImageRoute();
        return app;
    }

    private static async Task<Ok<ModerationResponse>> ModerateAsync(
        HttpRequest request, ModerateTask task, ImageAnalyzer pipeline, ImageDecoder decoder, CancellationToken cancellationToken)
    {
        var total = Stopwatch.StartNew();
        var upload = await ImageUpload.ReadAsync(request, decoder.Limits, cancellationToken);
        var run = await pipeline.RunAsync(task, task.Read(upload.Parameters(request)), upload.Bytes, cancellationToken);
        return TypedResults.Ok(ModerationResponse.From(run.Result, run.DecodeMs, total.Elapsed.TotalMilliseconds));
    }
}
