using System.Diagnostics;
using System.Text.Json;
using Iris.Configuration;
using Iris.Contracts;
using Iris.Core.Imaging;
using Iris.Core.Tasks;
using Iris.Core.Tasks.Embeddings;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Iris.Http;

public static class EmbedApi
{
    public static IEndpointRouteBuilder MapEmbedApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/embed", EmbedAsync)
            .WithName("Embed")
            .WithTags("Search")
            .WithSummary("Embed an image or a text")
            .WithDescription(
                "Returns the L2-normalised embedding of an image or a text in a CLIP model's joint space, so image–text and " +
                "image–image similarity is a dot product. Send an image in any form /v1/detect accepts, or JSON `{\"text\": \"a red flower\"}`. " +
                "Parameters: `model` (default Embeddings:Model), `tokens=true` to include a text's token ids.")
            .AddOpenApiOperationTransformer(DescribeBody)
            .AsImageRoute();
        return app;
    }

    private static async Task<Ok<EmbedResponse>> EmbedAsync(
        HttpRequest request, IrisOptions options, EmbedTask embed, ImageAnalyzer pipeline, ImageDecoder decoder, CancellationToken cancellationToken)
    {
        var total = Stopwatch.StartNew();
        var text = await ReadTextAsync(request, options.Embeddings.MaxTextLength, cancellationToken);
        if (text is not null)
        {
            // A text has no pixels to decode; its parameters come from the query string (the body holds the text).
            var withTokens = request.Query["tokens"].ToString() is "true" or "1";
            var embedding = await embed.EmbedTextAsync(embed.Read(QueryParameters.Reader(request)), text, cancellationToken);
            return TypedResults.Ok(new EmbedResponse(embedding.Model, "text", embedding.Vector.Length, embedding.Vector,
                withTokens ? embedding.TokenIds : null, new EmbedTimingsDto(0, Ms(embedding.EmbedMs), Ms(total.Elapsed.TotalMilliseconds))));
        }

        var upload = await ImageUpload.ReadAsync(request, decoder.Limits, cancellationToken);
        var run = await pipeline.RunAsync(embed, embed.Read(upload.Parameters(request)), upload.Bytes, cancellationToken);
        var image = run.Result;
        return TypedResults.Ok(new EmbedResponse(image.Model, "image", image.Vector.Length, image.Vector, null,
            new EmbedTimingsDto(Ms(run.DecodeMs), Ms(image.EmbedMs), Ms(total.Elapsed.TotalMilliseconds))));
    }

    /// <summary>
    /// The text of a JSON <c>{"text": …}</c> body, or null when the request carries an image instead (the body is
    /// buffered and rewound so <see cref="ImageUpload"/> can read it).
    /// </summary>
    private static async Task<string?> ReadTextAsync(HttpRequest request, int maxLength, CancellationToken cancellationToken)
    {
        if (request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) != true) return null;
        request.EnableBuffering();
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken);
        }
        catch (JsonException e)
        {
            throw new InvalidRequestException($"The JSON body is not valid JSON: {e.Message}");
        }
        using (document)
        {
            request.Body.Position = 0;
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || (!root.TryGetProperty("text", out var text) && !root.TryGetProperty("image", out _)))
                throw new InvalidRequestException("The JSON body must be an object with 'text' (a string to embed) or 'image' (base64 data or a data: URI).", "text");
            if (text.ValueKind == JsonValueKind.Undefined) return null;
            if (text.ValueKind != JsonValueKind.String || text.GetString()!.Trim().Length == 0)
                throw new InvalidRequestException("'text' must be a non-empty string.", "text");
            var value = text.GetString()!;
            if (value.Length > maxLength)
                throw new InvalidRequestException($"'text' is {value.Length} characters; at most {maxLength} are accepted (Embeddings:MaxTextLength).", "text");
            return value;
        }
    }

    /// <summary>The image envelopes of <see cref="ImageRequestBody"/>, with JSON also accepting <c>{"text": …}</c>.</summary>
    private static async Task DescribeBody(Microsoft.OpenApi.OpenApiOperation operation, Microsoft.AspNetCore.OpenApi.OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        await ImageRequestBody.Describe(operation, context, cancellationToken);
        if (operation.RequestBody?.Content?.TryGetValue("application/json", out var json) == true && json.Schema is Microsoft.OpenApi.OpenApiSchema schema)
        {
            schema.Required?.Clear();
            schema.Description = "Either 'image' (base64 or data: URI) or 'text'.";
            schema.Properties ??= new Dictionary<string, Microsoft.OpenApi.IOpenApiSchema>();
            schema.Properties["text"] = new Microsoft.OpenApi.OpenApiSchema
            {
                Type = Microsoft.OpenApi.JsonSchemaType.String,
                Description = "A text to embed with the model's text tower (lower-cased and truncated as its tokenizer does).",
            };
        }
    }

    private static double Ms(double v) => Math.Round(v, 2);
}
