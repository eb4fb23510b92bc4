using System.Diagnostics;
using Iris.Core.Inspection;

namespace Iris.Core.Tasks.Inspection;

/// <summary><c>info</c>: format, size, EXIF and pixel statistics, without a model. Parameter <c>include_gps</c> (never prefixed).</summary>
public sealed class InfoTask(ImageInspector inspector) : ImageTask<InfoTask.Parameters, ImageInfo>
{
    public sealed record Parameters(InspectionParameters Inspection) : ITaskParameters;

    public override string Name => "info";
    public override bool UsesModel => false;
    public override string ParameterPrefix => "";

    public override Parameters Read(ParameterReader reader) => new(new InspectionParameters(reader.Bool("include_gps", false)));

    public override Task<Func<TaskInput, CancellationToken, Task<ImageInfo>>> PrepareAsync(Parameters parameters, CancellationToken cancellationToken) =>
        Task.FromResult<Func<TaskInput, CancellationToken, Task<ImageInfo>>>((input, _) =>
        {
            var started = Stopwatch.GetTimestamp();
            var header = inspector.ReadHeader(input.Source);
            return Task.FromResult(inspector.Inspect(header, input.Image, parameters.Inspection, Stopwatch.GetElapsedTime(started).TotalMilliseconds));
        });

    public override string? ModelOf(ImageInfo result) => null;
}
