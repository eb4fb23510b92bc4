using Iris.Core.Captioning;
using Iris.Core.Embeddings;

namespace Iris.Contracts;

/// <summary>The JSON document of <c>POST /v1/describe</c> and <c>iris describe --json</c>.</summary>
public sealed record DescribeResponse(string Model, string Description, int[]? Tokens, float? Score, int NumBeams, DescribeTimingsDto TimingsMs)
{
    public static DescribeResponse From(CaptionBatch batch, int index, bool withTokens, double decodeMs, double totalMs)
    {
        var caption = batch.Captions[index];
        var t = batch.Timings;
        return new DescribeResponse(batch.Model, caption.Text, withTokens ? caption.TokenIds : null,
            caption.Score is { } s ? MathF.Round(s, 5) : null, batch.Settings.NumBeams,
            new DescribeTimingsDto(Ms(decodeMs), Ms(t.Preprocess), Ms(t.Encoder), Ms(t.Decoder), t.DecoderSteps, Ms(t.Postprocess), Ms(totalMs)));
    }

    private static double Ms(double v) => Math.Round(v, 2);
}

public sealed record DescribeTimingsDto(double Decode, double Preprocess, double Encoder, double Decoder, int DecoderSteps, double Postprocess, double Total);

/// <summary>The JSON document of <c>POST /v1/embed</c>.</summary>
public sealed record EmbedResponse(string Model, string Input, int Dimensions, float[] Embedding, int[]? Tokens, EmbedTimingsDto TimingsMs);

public sealed record EmbedTimingsDto(double Decode, double Embed, double Total);

/// <summary>The JSON document of zero-shot <c>POST /v1/classify</c> with an <c>embed</c> (CLIP) model.</summary>
public sealed record ZeroShotClassifyResponse(string Model, string PromptTemplate, IReadOnlyList<ZeroShotLabelDto> Labels, ZeroShotTimingsDto TimingsMs)
{
    public static ZeroShotClassifyResponse From(ZeroShotResult result, double decodeMs, double totalMs) => new(
        result.Model, result.PromptTemplate,
        result.Labels.Select(l => new ZeroShotLabelDto(l.Label, MathF.Round(l.Score, 5), MathF.Round(l.Similarity, 5))).ToList(),
        new ZeroShotTimingsDto(Ms(decodeMs), Ms(result.EmbedMs), Ms(totalMs)));

    private static double Ms(double v) => Math.Round(v, 2);
}

public sealed record ZeroShotLabelDto(string Label, float Score, float Similarity);

public sealed record ZeroShotTimingsDto(double Decode, double Embed, double Total);
