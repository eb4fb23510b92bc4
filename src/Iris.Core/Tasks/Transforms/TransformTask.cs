using System.Text.Json;
using Iris.Core.Imaging;
using Iris.Core.Transforms;

namespace Iris.Core.Tasks.Transforms;

/// <summary>
/// <c>transform</c>: an image through a pipeline of operations (<c>ops</c>, see <see cref="TransformPipelineParser"/>)
/// and written with its output settings. Every door (<c>/v1/transform</c>, the compatibility routes, transform jobs,
/// <c>iris transform</c>) reads its parameters here and runs it here. It is not one of the analysis tasks: it answers an
/// image, not a section of an analysis, and libvips decodes the source itself (streaming, under the transform limits).
/// </summary>
public sealed class TransformTask(ImageTransformer transformer)
{
    /// <param name="Pipeline">The pixel steps in order and the output settings.</param>
    /// <param name="Accept">The caller's Accept header, for <c>format=auto</c>; null resolves as for a client that accepts only the classic formats.</param>
    public sealed record Parameters(TransformPipeline Pipeline, string? Accept) : ITaskParameters
    {
        /// <summary>The format a target's extension names (<c>.webp</c>), unless the pipeline already chose one.</summary>
        public Parameters WithFormatIfUnset(OutputFormat format) =>
            Pipeline.Output.Format == OutputFormat.Source ? this with { Pipeline = Pipeline with { Output = Pipeline.Output with { Format = format } } } : this;

        /// <summary>The response depends on the Accept header (and must say so with Vary).</summary>
        public bool DependsOnAccept => Pipeline.Output.Format == OutputFormat.Auto;
    }

    public const string Name = "transform";

    public ImageLimits ImageLimits => transformer.ImageLimits;

    /// <summary><c>ops</c> in the ops language, from a query string, form field, job parameter or the CLI.</summary>
    public Parameters Read(ParameterReader reader, string? accept = null) => Read(reader.String("ops"), accept);

    public Parameters Read(string? ops, string? accept = null) => new(transformer.Parser.Parse(ops), accept);

    /// <summary><c>ops</c> from a JSON body: a string in the ops language or an array of <c>{"op": …}</c> objects.</summary>
    public Parameters Read(JsonElement ops, string? accept = null) => new(transformer.Parser.Parse(ops), accept);

    /// <summary>Operations built by code from an older service's parameters (the compatibility routes).</summary>
    public Parameters Read(IEnumerable<OperationCall> operations, string? accept = null) => new(transformer.Parser.Parse(operations), accept);

    /// <summary>Runs the pipeline within Transforms:MaxConcurrent and Transforms:TimeBudgetMs.</summary>
    public Task<TransformResult> RunAsync(Parameters parameters, byte[] source, CancellationToken cancellationToken = default) =>
        transformer.TransformAsync(source, parameters.Pipeline, parameters.Accept, cancellationToken);

    /// <summary>The image or the pipeline cannot be transformed, and would fail the same way on every retry.</summary>
    public static bool Refuses(Exception exception) =>
        exception is ImageRejectedException or InvalidParameterException or OutputTooLargeException or OutputFormatUnsupportedException;
}
