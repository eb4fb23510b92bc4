using Iris.Core.Imaging;
using Iris.Core.Tasks;

namespace Iris.Core.Transforms;

/// <summary>
/// A bad parameter of a transform (an operation's argument such as <c>resize.w</c>, <c>ops</c> itself, or the source of
/// a /v1/img URL): the one bad-parameter exception, kept as its own type because its problem has always been titled
/// "Invalid transform" rather than "Invalid request".
/// </summary>
public sealed class InvalidTransformException(string message, string parameter) : InvalidParameterException(message, parameter);

/// <summary>The requested output format has no encoder in the bundled libvips (400, naming the formats that work).</summary>
public sealed class OutputFormatUnsupportedException(string message) : Exception(message)
{
    public string Parameter => "format";
}

/// <summary>The pipeline would produce more pixels than Transforms:MaxOutputPixels allows (400, naming the step).</summary>
public sealed class OutputTooLargeException(string message, string parameter) : Exception(message)
{
    public string Parameter { get; } = parameter;
}

/// <summary>The source has more animation frames than Transforms:MaxFrames allows (413).</summary>
public sealed class TooManyFramesException(int frames, int maxFrames)
    : ImageRejectedException($"The image has {frames} frames; the limit is {maxFrames} (Transforms:MaxFrames).");

/// <summary>The transform ran past the per-request time budget (Transforms:TimeBudgetMs) (422).</summary>
public sealed class TransformTimeoutException(TimeSpan budget)
    : ImageRejectedException($"The transformation took longer than its time budget of {budget.TotalMilliseconds:N0} ms (Transforms:TimeBudgetMs); ask for a smaller output or fewer steps.");
