using Iris.Core.Captioning;
using Iris.Core.Imaging;
using Iris.Core.Inference;

namespace Iris.Core.Tasks.Captioning;

/// <summary>
/// <c>describe</c>: a caption. Parameters <c>model</c> and the generation settings <c>max_new_tokens</c>, <c>num_beams</c>,
/// <c>no_repeat_ngram_size</c>, <c>repetition_penalty</c>, <c>length_penalty</c> (unset: the model's generation_config.json).
/// </summary>
public sealed class DescribeTask(ModelRuntime models, DescribeTask.Defaults defaults)
    : ModelTask<DescribeTask.Parameters, ImageCaptioner, CaptionBatch>(models, "describe")
{
    /// <summary>Captioning:Model, Captioning:MaxNewTokensLimit, Captioning:MaxBeams.</summary>
    public sealed record Defaults(string Model, int MaxNewTokensLimit, int MaxBeams);

    public sealed record Parameters(string Model, GenerationOverrides Generation) : IModelParameters;

    public override string Name => "describe";

    public Defaults Default => defaults;

    public override Parameters Read(ParameterReader reader) => new(
        reader.String("model") ?? defaults.Model,
        new GenerationOverrides
        {
            MaxNewTokens = reader.IntOrNull("max_new_tokens", 1, defaults.MaxNewTokensLimit),
            NumBeams = reader.IntOrNull("num_beams", 1, defaults.MaxBeams),
            NoRepeatNgramSize = reader.IntOrNull("no_repeat_ngram_size", 0, 32),
            RepetitionPenalty = reader.FloatOrNull("repetition_penalty", 0.01f, 100f),
            LengthPenalty = reader.FloatOrNull("length_penalty", -100f, 100f),
        });

    /// <summary>Generation settings that arrive typed (CLI options), checked against the same ranges as <see cref="Read"/>.</summary>
    public GenerationOverrides Check(GenerationOverrides overrides) => new()
    {
        MaxNewTokens = overrides.MaxNewTokens is { } m ? ParameterRange.Check(m, "max_new_tokens", 1, defaults.MaxNewTokensLimit) : null,
        NumBeams = overrides.NumBeams is { } b ? ParameterRange.Check(b, "num_beams", 1, defaults.MaxBeams) : null,
        NoRepeatNgramSize = overrides.NoRepeatNgramSize is { } n ? ParameterRange.Check(n, "no_repeat_ngram_size", 0, 32) : null,
        RepetitionPenalty = overrides.RepetitionPenalty is { } r ? ParameterRange.Check(r, "repetition_penalty", 0.01f, 100f) : null,
        LengthPenalty = overrides.LengthPenalty is { } l ? ParameterRange.Check(l, "length_penalty", -100f, 100f) : null,
        EarlyStopping = overrides.EarlyStopping,
        MinLength = overrides.MinLength,
    };

    public override DecodeNeed InputNeed(ImageCaptioner model, Parameters parameters) => model.Processor.InputNeed;

    public override Task<CaptionBatch> RunAsync(ImageCaptioner model, Parameters parameters, TaskInput input, CancellationToken cancellationToken) =>
        model.DescribeAsync(input.Image, parameters.Generation, cancellationToken);

    /// <summary>
    /// Images that share a tensor size go through one encoder run and one decoder run per step (ViT-style processors resize
    /// to a fixed size, so a batch is usually one group). Each image's result is its caption with its group's timings.
    /// </summary>
    public override async Task<IReadOnlyList<CaptionBatch>> RunBatchAsync(
        ImageCaptioner model, Parameters parameters, IReadOnlyList<TaskInput> inputs, CancellationToken cancellationToken)
    {
        var results = new CaptionBatch[inputs.Count];
        foreach (var group in Enumerable.Range(0, inputs.Count).GroupBy(i => model.Processor.OutputSize(inputs[i].Image)))
        {
            var members = group.ToList();
            var batch = await model.DescribeAsync(members.Select(i => inputs[i].Image).ToList(), parameters.Generation, cancellationToken);
            for (var k = 0; k < members.Count; k++)
                results[members[k]] = batch with { Captions = [batch.Captions[k]] };
        }
        return results;
    }

    public override string? ModelOf(CaptionBatch result) => result.Model;
}
