using System.Diagnostics.Metrics;
using Iris.Core.Telemetry;

namespace Iris.Tests.Support;

/// <summary>
/// Measurements of one of Iris's instruments (<see cref="IrisMetrics"/>) as they are recorded, with their tags. The meter
/// is process-wide, so tests that count a model's measurements give it a name of their own.
/// </summary>
public static class IrisMeasurements
{
    /// <summary>Every measurement of <paramref name="instrument"/>; the callbacks run one at a time.</summary>
    public static MeterListener Listen<T>(string instrument, Action<IReadOnlyDictionary<string, object?>, T> onMeasurement) where T : struct
    {
        var listener = new MeterListener();
        listener.InstrumentPublished = (published, l) =>
        {
            if (published.Meter.Name == IrisMetrics.MeterName && published.Name == instrument) l.EnableMeasurementEvents(published);
        };
        listener.SetMeasurementEventCallback<T>((_, value, tags, _) =>
        {
            var copy = new Dictionary<string, object?>();
            foreach (var tag in tags) copy[tag.Key] = tag.Value;
            lock (listener) onMeasurement(copy, value);
        });
        listener.Start();
        return listener;
    }

    /// <summary>The measurements of <paramref name="instrument"/> tagged with <paramref name="model"/>.</summary>
    public static MeterListener ListenForModel<T>(string instrument, string model, Action<T> onValue) where T : struct =>
        Listen<T>(instrument, (tags, value) =>
        {
            if (Equals(tags.GetValueOrDefault("model"), model)) onValue(value);
        });
}
