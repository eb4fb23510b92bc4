using System.Text.Json;

namespace Iris.Core.Captioning;

/// <summary>transformers' <c>early_stopping</c>: true, false, or "never".</summary>
public enum EarlyStopping { False, True, Never }

/// <summary>
/// How captions are generated, as transformers' <c>GenerationConfig</c> holds it: read from the model's
/// <c>generation_config.json</c> (falling back to <c>config.json</c>), then overridden per request.
/// </summary>
public sealed record GenerationSettings
{
    public int DecoderStartTokenId { get; init; }
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];
    public int PadTokenId { get; init; }

    /// <summary>Total length including the decoder start token; <see cref="MaxNewTokens"/> wins when both are set.</summary>
    public int MaxLength { get; init; } = 20;
    public int? MaxNewTokens { get; init; }
    public int MinLength { get; init; }
    public int NumBeams { get; init; } = 1;
    public int NoRepeatNgramSize { get; init; }
    public float RepetitionPenalty { get; init; } = 1f;
    public float LengthPenalty { get; init; } = 1f;
    public EarlyStopping EarlyStopping { get; init; } = EarlyStopping.False;

    /// <summary>The length at which generation stops, counting the decoder start token (the decoder prompt).</summary>
    public int EffectiveMaxLength => MaxNewTokens is { } n ? n + 1 : MaxLength;

    public GenerationSettings Override(GenerationOverrides overrides) => this with
    {
        MaxNewTokens = overrides.MaxNewTokens ?? MaxNewTokens,
        NumBeams = overrides.NumBeams ?? NumBeams,
        NoRepeatNgramSize = overrides.NoRepeatNgramSize ?? NoRepeatNgramSize,
        RepetitionPenalty = overrides.RepetitionPenalty ?? RepetitionPenalty,
        LengthPenalty = overrides.LengthPenalty ?? LengthPenalty,
        EarlyStopping = overrides.EarlyStopping ?? EarlyStopping,
        MinLength = overrides.MinLength ?? MinLength,
    };

    /// <summary>
    /// Reads <c>generation_config.json</c> when it exists; token ids missing there come from <c>config.json</c>
    /// (top level, then its <c>decoder</c> section), as transformers builds a generation config from a model config.
    /// </summary>
    public static GenerationSettings FromFiles(string configPath, string? generationConfigPath)
    {
        using var config = JsonDocument.Parse(File.ReadAllText(configPath));
        using var generation = generationConfigPath is not null && File.Exists(generationConfigPath)
            ? JsonDocument.Parse(File.ReadAllText(generationConfigPath))
            : JsonDocument.Parse("{}");
        JsonElement? Find(string name)
        {
            foreach (var source in new[] { generation.RootElement, config.RootElement,
                         config.RootElement.TryGetProperty("decoder", out var d) ? d : default })
                if (source.ValueKind == JsonValueKind.Object && source.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null)
                    return v;
            return null;
        }
        int? Int(string name) => Find(name) is { ValueKind: JsonValueKind.Number } v ? v.GetInt32() : null;
        float? Float(string name) => Find(name) is { ValueKind: JsonValueKind.Number } v ? v.GetSingle() : null;

        var eos = Find("eos_token_id") switch
        {
            { ValueKind: JsonValueKind.Number } v => [v.GetInt32()],
            { ValueKind: JsonValueKind.Array } v => v.EnumerateArray().Select(e => e.GetInt32()).ToArray(),
            _ => Array.Empty<int>(),
        };
        var start = Int("decoder_start_token_id") ?? Int("bos_token_id")
            ?? throw new InvalidDataException("Neither generation_config.json nor config.json gives decoder_start_token_id or bos_token_id.");
        var early = Find("early_stopping") switch
        {
            { ValueKind: JsonValueKind.True } => EarlyStopping.True,
            { ValueKind: JsonValueKind.String } s when s.GetString() == "never" => EarlyStopping.Never,
            _ => EarlyStopping.False,
        };
        return new GenerationSettings
        {
            DecoderStartTokenId = start,
            EosTokenIds = eos,
            // transformers pads finished rows with pad_token_id, else with the first eos.
            PadTokenId = Int("pad_token_id") ?? (eos.Length > 0 ? eos[0] : 0),
            MaxLength = Int("max_length") ?? 20,
            MaxNewTokens = Int("max_new_tokens"),
            MinLength = Int("min_length") ?? 0,
            NumBeams = Int("num_beams") ?? 1,
            NoRepeatNgramSize = Int("no_repeat_ngram_size") ?? 0,
            RepetitionPenalty = Float("repetition_penalty") ?? 1f,
            LengthPenalty = Float("length_penalty") ?? 1f,
            EarlyStopping = early,
        };
    }
}

/// <summary>Per-request changes to <see cref="GenerationSettings"/>; null keeps the model's value.</summary>
public sealed record GenerationOverrides
{
    public int? MaxNewTokens { get; init; }
    public int? NumBeams { get; init; }
    public int? NoRepeatNgramSize { get; init; }
    public float? RepetitionPenalty { get; init; }
    public float? LengthPenalty { get; init; }
    public EarlyStopping? EarlyStopping { get; init; }
    public int? MinLength { get; init; }
}
