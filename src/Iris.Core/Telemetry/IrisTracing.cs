using System.Diagnostics;

namespace Iris.Core.Telemetry;

/// <summary>
/// Iris's spans, on an <see cref="ActivitySource"/> named "Iris": image decoding, each model run (with its wait for a
/// slot) and each job a worker processes. The host sends them, with ASP.NET Core's request spans, to an OpenTelemetry
/// collector over OTLP when <c>Tracing:OtlpEndpoint</c> is set; without a listener they cost nothing.
/// </summary>
public static class IrisTracing
{
    public const string SourceName = "Iris";

    public static readonly ActivitySource Source = new(SourceName);
}
