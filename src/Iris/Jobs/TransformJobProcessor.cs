using System.Text.Json;
using Iris.Configuration;
using Iris.Contracts;
using Iris.Core.Imaging;
using Iris.Core.Jobs;
using Iris.Core.Storage;
using Iris.Core.Tasks;
using Iris.Core.Tasks.Transforms;
using Iris.Core.Transforms;

namespace Iris.Jobs;

/// <summary>
/// The <c>transform</c> job task: runs one or more pipelines (<c>ops</c>, the syntax of <c>POST /v1/transform</c>, several
/// separated by <c>|</c>) on the job's image and keeps each output in the image store, where <c>/v1/img</c> serves it.
/// The result document lists the outputs: <c>{"transform": {"outputs": [{ops, id, media_type, width, height, bytes, url}]}}</c>.
/// </summary>
public sealed class TransformJobProcessor(TransformTask transform, IBlobStore blobs, IrisOptions options) : IJobProcessor
{
    public const string TaskName = "transform";
    private const char PipelineSeparator = '|';
    private static readonly JsonSerializerOptions Json = new(DetectionResponse.Json) { WriteIndented = false };

    public IReadOnlyCollection<string> Tasks { get; } = [TaskName];

    public void Validate(IReadOnlyList<string> tasks, IReadOnlyDictionary<string, string> parameters)
    {
        try
        {
            Pipelines(parameters);
        }
        catch (InvalidParameterException e)
        {
            throw new InvalidJobRequestException(e.Message, e.Parameter);
        }
    }

    public async Task<JobOutput> ProcessAsync(JobInput input, CancellationToken cancellationToken)
    {
        var outputs = new List<TransformJobOutput>();
        try
        {
            // Jobs have no Accept header: format=auto resolves as for a client that accepts only the classic formats.
            foreach (var (ops, parameters) in Pipelines(input.Parameters))
            {
                var result = await transform.RunAsync(parameters, input.Image, cancellationToken);
                var id = await blobs.PutKeptAsync(result.Bytes, input.Owner, cancellationToken);
                outputs.Add(new TransformJobOutput(ops, id, result.MediaType, result.Width, result.Height, result.Bytes.Length, ServingUrl(options.Transforms, id, result.Format)));
            }
        }
        catch (Exception e) when (TransformTask.Refuses(e))
        {
            // The same image and pipeline would fail the same way on every retry.
            throw new PermanentJobFailureException(e.Message, e);
        }
        var document = JsonSerializer.Serialize(new Dictionary<string, object> { [TaskName] = new TransformJobResult(outputs) }, Json);
        return new JobOutput(document, []);
    }

    /// <summary>The pipelines of <c>ops</c> (or <c>transform_ops</c>), at most Transforms:MaxBatchItems, each parsed now so a typo fails at submit.</summary>
    private List<(string Ops, TransformTask.Parameters Parameters)> Pipelines(IReadOnlyDictionary<string, string> parameters)
    {
        var ops = parameters.GetValueOrDefault("ops") ?? parameters.GetValueOrDefault("transform_ops")
            ?? throw new InvalidTransformException("A transform job needs ops: one pipeline (e.g. resize:w=800;format:webp), or several separated by '|'.", "ops");
        var texts = ops.Split(PipelineSeparator, StringSplitOptions.TrimEntries);
        // One job is one image through its pipelines: as many as one /api/v1/batch answers at once, no more.
        if (texts.Length > options.Transforms.MaxBatchItems)
            throw new InvalidTransformException(
                $"A transform job runs at most {options.Transforms.MaxBatchItems} pipelines (Transforms:MaxBatchItems); got {texts.Length}.", "ops");
        return texts.Select(text => (text, transform.Read(text))).ToList();
    }

    /// <summary>
    /// A /v1/img URL that serves a stored image as it is: signed when a key is configured, null when neither signed nor
    /// unsigned URLs work. /v1/img writes a BMP source as PNG unless the URL asks for .bmp, so a BMP's URL does.
    /// </summary>
    public static string? ServingUrl(TransformsOptions transforms, string id, ImageFormat format)
    {
        var path = format == ImageFormat.Bmp ? $"/-/{id}.bmp" : $"/-/{id}";
        if (transforms.SigningKey.Length > 0)
            return $"/v1/img/{Iris.Core.Transforms.Imgproxy.ImgproxySignature.FromHexLists(transforms.SigningKey, transforms.SigningSalt, transforms.SignatureSize).Sign(path)}{path}";
        return transforms.AllowUnsigned ? $"/v1/img/unsafe{path}" : null;
    }
}

public sealed record TransformJobResult(IReadOnlyList<TransformJobOutput> Outputs);

/// <param name="Url">Where <c>/v1/img</c> serves the output; null when URL signing is not configured.</param>
public sealed record TransformJobOutput(string Ops, string Id, string MediaType, int Width, int Height, long Bytes, string? Url);
