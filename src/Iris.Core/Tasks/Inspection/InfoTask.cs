using System.Diagnostics;
using Iris.Core.Inspection;

namespace Iris.Core.Tasks.Inspection;

/// <summary><c>info</c>: format, size, EXIF and pixel statistics, without a model. Parameter <c>include_gps</c> (never prefixed).</summary>
public sealed class InfoTask(ImageInspector inspector) : ImageTask<InfoTask.Parameters, ImageInspector, ImageInfo>
{
    public sealed record Parameters(InspectionParameters Inspection) : ITaskParameters;

    public override string Name => "info";
    public override bool UsesModel => false;
    public override string ParameterPrefix => "";

    public override Parameters Read(ParameterReader reader) => new(new InspectionParameters(reader.Bool("include_gps", false)));

    private readonly Task<ImageInspector> _inspector = Task.FromResult(inspector);

    /// <summary>Nothing to load: the inspector is the "model".</summary>
    public override Task<ImageInspector> LoadAsync(Parameters parameters, CancellationToken cancellationToken) => _inspector;

    public override Task<ImageInfo> RunAsync(ImageInspector model, Parameters parameters, TaskInput input, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var header = model.ReadHeader(input.Source);
        return Task.FromResult(model.Inspect(header, input.Image, parameters.Inspection, Stopwatch.GetElapsedTime(started).TotalMilliseconds));
    }

    public override string? ModelOf(ImageInfo result) => null;
}
