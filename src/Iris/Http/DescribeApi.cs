using System.Diagnostics;
using Iris.Configuration;
using Iris.Contracts;
using Iris.Core.Captioning;
using Iris.Core.Imaging;
using Iris.Core.Inference;
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
            .ProducesImageProblems();
        return app;
    }

    private static async Task<Ok<DescribeResponse>> DescribeAsync(
        HttpRequest request, IrisOptions options, ImageDecoder decoder, ModelRuntime models, CancellationToken cancellationToken)
    {
        var total = Stopwatch.StartNew();
        var upload = await ImageUpload.ReadAsync(request, decoder.Limits, cancellationToken);
        var overrides = ParseOverrides(name => upload.Parameter(request, name), options.Captioning);
        var withTokens = Bool(upload.Parameter(request, "tokens"), "tokens");
        var modelName = upload.Parameter(request, "model") ?? options.Captioning.Model;

        var captioner = await models.GetAsync<ImageCaptioner>(modelName, "describe", cancellationToken);
        var decodeClock = Stopwatch.StartNew();
        var image = decoder.Decode(upload.Bytes, cancellationToken);
        var decodeMs = decodeClock.Elapsed.TotalMilliseconds;
        var batch = await captioner.DescribeAsync(image, overrides, cancellationToken);
        return TypedResults.Ok(DescribeResponse.From(batch, 0, withTokens, decodeMs, total.Elapsed.TotalMilliseconds));
    }

    /// <summary>Generation parameters of a request (HTTP parameter or CLI option), each checked against its range.</summary>
    public static GenerationOverrides ParseOverrides(Func<string, string?> parameter, CaptioningOptions options)
    {
        int? Int(string name, int min, int max) =>
            parameter(name) is { } raw ? RequestParameters.Int(raw, name, 0, min, max) : null;
        float? Float(string name, float min, float max) =>
            parameter(name) is { } raw ? RequestParameters.Float(raw, name, 0, min, max) : null;
        return new GenerationOverrides
        {
            MaxNewTokens = Int("max_new_tokens", 1, options.MaxNewTokensLimit),
            NumBeams = Int("num_beams", 1, options.MaxBeams),
            NoRepeatNgramSize = Int("no_repeat_ngram_size", 0, 32),
            RepetitionPenalty = Float("repetition_penalty", 0.01f, 100f),
            LengthPenalty = Float("length_penalty", -100f, 100f),
        };
    }

    private static bool Bool(string? raw, string name) => raw switch
    {
        null => false,
        "true" or "1" or "yes" => true,
        "false" or "0" or "no" => false,
        _ => throw new InvalidRequestException($"{name} must be true or false; got '{raw}'.", name),
    };
}
