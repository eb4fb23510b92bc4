using System.Diagnostics;
using Iris.Configuration;
using Iris.Contracts;
using Iris.Core.Analysis;
using Iris.Core.Captioning;
using Iris.Core.Inference;
using Iris.Http;

namespace Iris.Analysis;

/// <summary>
/// <c>describe</c> in analyze: the section is the document of <c>POST /v1/describe</c>. Parameters <c>describe_model</c> and the
/// generation settings prefixed with <c>describe_</c> (<c>describe_max_new_tokens</c>, <c>describe_num_beams</c>, …).
/// </summary>
public sealed class DescribeAnalysisTask(ModelRuntime models, IrisOptions options) : IAnalysisTask
{
    private const string Prefix = "describe_";

    public string Name => "describe";
    public bool UsesModel => true;

    public void Validate(AnalysisParameters parameters) => Parse(parameters);

    private GenerationOverrides Parse(AnalysisParameters parameters)
    {
        try
        {
            return DescribeApi.ParseOverrides(name => parameters.String(Prefix + name), options.Captioning);
        }
        catch (InvalidRequestException e)
        {
            throw new InvalidAnalysisParameterException(e.Message.Replace(e.Parameter ?? "", Prefix + e.Parameter), Prefix + e.Parameter);
        }
    }

    public async Task<PreparedAnalysis> PrepareAsync(AnalysisParameters parameters, CancellationToken cancellationToken)
    {
        var overrides = Parse(parameters);
        var captioner = await models.GetAsync<ImageCaptioner>(parameters.String("describe_model") ?? options.Captioning.Model, "describe", cancellationToken);
        return async (input, ct) =>
        {
            var clock = Stopwatch.StartNew();
            var batch = await captioner.DescribeAsync(input.Image, overrides, ct);
            return DescribeResponse.From(batch, 0, false, 0, clock.Elapsed.TotalMilliseconds);
        };
    }
}
