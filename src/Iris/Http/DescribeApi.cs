using System.Diagnostics;
using Iris.Contracts;
using Iris.Core.Imaging;
using Iris.Core.Tasks;
using Iris.Core.Tasks.Captioning;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Iris.Http;

public static class DescribeApi
{
    public static IEndpointRouteBuilder MapDescribeApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/describe", DescribeAsync)
            .WithName("Describe")
            .WithTags("Understand")
            .WithSummary("Caption an image")
            .WithDescription(
                "Generates a one-sentence description with a vision encoder-decoder captioner (Hugging Face ViT-GPT2 style export). " +
                "Send the image as multipart/form-data (field `image` or `file`), a raw image body, or JSON `{\"image\": \"<base64>\"}`. " +
                "Parameters (query string or form fields): `model` (default Captioning:Model), `max_new_tokens` (default from the model's " +
                "generation_config.json), `num_beams` (1 = greedy; default from generation_config.json), `no_repeat_ngram_size`, " +
                "`repetition_penalty`, `length_penalty`, `tokens=true` to include the generated token ids.")
            .AddOpenApiOperationTransformer(ImageRequestBody.Describe)
            .AsImageRoute();
        return app;
    }

    private static async Task<Ok<DescribeResponse>> DescribeAsync(
        HttpRequest request, DescribeTask task, ImageAnalyzer pipeline, ImageDecoder decoder, CancellationToken cancellationToken)
    {
        var total = Stopwatch.StartNew();
        var upload = await ImageUpload.ReadAsync(request, decoder.Limits, cancellationToken);
        var reader = upload.Parameters(request);
        var parameters = task.Read(reader);
        var withTokens = reader.Bool("tokens", false);
        var run = await pipeline.RunAsync(task, parameters, upload.Bytes, cancellationToken);
        return TypedResults.Ok(DescribeResponse.From(run.Result, 0, withTokens, run.DecodeMs, total.Elapsed.TotalMilliseconds));
    }
}
