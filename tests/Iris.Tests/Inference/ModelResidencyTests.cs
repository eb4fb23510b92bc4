using System.Diagnostics.Metrics;
using Iris.Core.Inference;
using Iris.Core.Models;
using Iris.Core.Telemetry;
using Iris.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Iris.Tests.Inference;

/// <summary>A model of a task of its own whose disposal can be seen.</summary>
public sealed class FakeModel(ModelManifest manifest) : ILoadedModel
{
    public ModelManifest Manifest { get; } = manifest;
    public bool Disposed { get; private set; }

    /// <summary>What a run does with its sessions: fails once they are gone.</summary>
    public string Run() => Disposed ? throw new ObjectDisposedException(Manifest.Name) : Manifest.Name;

    public void Dispose() => Disposed = true;
}

/// <summary>Loads <see cref="FakeModel"/>s; a test may hold loads back with <see cref="Gate"/>.</summary>
public sealed class FakeModelLoader : IModelLoader
{
    public const string TaskName = "fake";
    private int _loads;

    public string Task => TaskName;
    public TaskCompletionSource? Gate { get; set; }
    public int Loads => _loads;

    public async Task<ILoadedModel> LoadAsync(ModelManifest manifest, ModelFiles files, CancellationToken cancellationToken)
    {
        if (Gate is { } gate) await gate.Task.WaitAsync(cancellationToken);
        Interlocked.Increment(ref _loads);
        return new FakeModel(manifest);
    }

    /// <summary>A manifest of this task with one file of <paramref name="bytes"/> bytes written under <paramref name="cache"/> (none when null).</summary>
    public static ModelManifest Manifest(string name, string? cache = null, int bytes = 0)
    {
        if (cache is null) return new ModelManifest { Name = name, Task = TaskName, Files = [] };
        Directory.CreateDirectory(Path.Combine(cache, name));
        File.WriteAllBytes(Path.Combine(cache, name, "weights.bin"), new byte[bytes]);
        return new ModelManifest { Name = name, Task = TaskName, Files = [new ModelFile { Path = "weights.bin" }] };
    }
}

public sealed class ModelResidencyTests : IDisposable
{
    private static readonly TimeSpan Idle = TimeSpan.FromMinutes(5);
    private const int MiB = 1 << 20;

    private readonly TempDirectory _cache = new();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-12-03T12:00:00Z"));
    private readonly FakeModelLoader _loader = new();

    public void Dispose() => _cache.Dispose();

    private ModelRuntime Runtime(ModelResidency residency, params ModelManifest[] manifests)
    {
        var catalog = new ModelCatalog(manifests.Length > 0 ? manifests : [FakeModelLoader.Manifest("fake-a")], _cache.Path);
        var store = new ModelStore(_cache.Path, null, new ModelDownloader(new HttpClient(), 1));
        return new ModelRuntime(catalog, store, [_loader], autoPull: false, verifyOnLoad: false, residency: residency with { MeasureLoads = false }, time: _time);
    }

    private static async Task<FakeModel> Get(ModelRuntime runtime, string name) =>
        (FakeModel)await runtime.GetAsync<ILoadedModel>(name, FakeModelLoader.TaskName);

    [Fact]
    public async Task An_unused_model_is_unloaded_after_the_idle_time_and_not_a_moment_before()
    {
        using var runtime = Runtime(new ModelResidency(IdleUnloadAfter: Idle));
        var model = await Get(runtime, "fake-a");

        _time.Advance(Idle - TimeSpan.FromSeconds(1));
        Assert.Equal(ModelState.Ready, runtime.Status("fake-a").State);
        Assert.False(model.Disposed);

        _time.Advance(TimeSpan.FromSeconds(1));
        var status = runtime.Status("fake-a");
        Assert.Equal(ModelState.Unloaded, status.State);
        Assert.Equal("idle", status.UnloadReason);
        Assert.True(model.Disposed);
    }

    [Fact]
    public async Task Each_use_restarts_the_idle_time()
    {
        using var runtime = Runtime(new ModelResidency(IdleUnloadAfter: Idle));
        await Get(runtime, "fake-a");
        _time.Advance(Idle - TimeSpan.FromSeconds(10));
        await Get(runtime, "fake-a");

        _time.Advance(Idle - TimeSpan.FromSeconds(1));
        Assert.Equal(ModelState.Ready, runtime.Status("fake-a").State);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(ModelState.Unloaded, runtime.Status("fake-a").State);
    }

    [Fact]
    public async Task Without_an_idle_time_models_stay_loaded()
    {
        using var runtime = Runtime(ModelResidency.KeepEverything);
        var model = await Get(runtime, "fake-a");
        _time.Advance(TimeSpan.FromDays(30));
        Assert.Equal(ModelState.Ready, runtime.Status("fake-a").State);
        Assert.False(model.Disposed);
    }

    [Fact]
    public async Task A_request_after_an_unload_loads_the_model_again_and_counts_it_as_a_reload()
    {
        // The meter is process-wide: only this model's loads go into the list, so that tests loading other models in
        // parallel cannot change it while the assertion reads it.
        var loads = new List<(string Model, string Reason)>();
        using var listener = IrisMeasurements.Listen<long>("iris.model.loads", (tags, _) =>
        {
            if (Equals(tags.GetValueOrDefault("model"), "fake-a")) loads.Add(("fake-a", (string)tags["reason"]!));
        });
        using var runtime = Runtime(new ModelResidency(IdleUnloadAfter: Idle));
        await runtime.WarmUpAsync("fake-a", CancellationToken.None, reason: "preload");
        var first = await Get(runtime, "fake-a");
        _time.Advance(Idle);
        Assert.Equal(ModelState.Unloaded, runtime.Status("fake-a").State);

        var second = await Get(runtime, "fake-a");

        Assert.NotSame(first, second);
        Assert.Equal("fake-a", second.Run());
        Assert.Equal(ModelState.Ready, runtime.Status("fake-a").State);
        Assert.Equal(2, _loader.Loads);
        Assert.Equal([("fake-a", "preload"), ("fake-a", "reload_after_unload")], loads);
    }

    [Fact]
    public async Task A_model_in_use_is_not_idle_and_is_unloaded_only_after_its_call_gives_it_back()
    {
        using var runtime = Runtime(new ModelResidency(IdleUnloadAfter: Idle));
        FakeModel model;
        using (ModelUse.Begin())
        {
            model = await Get(runtime, "fake-a");
            _time.Advance(Idle * 3);
            Assert.Equal(ModelState.Ready, runtime.Status("fake-a").State);
            Assert.Equal(1, runtime.Status("fake-a").InUse);
            Assert.Equal("fake-a", model.Run());
        }
        Assert.Equal(0, runtime.Status("fake-a").InUse);
        _time.Advance(Idle - TimeSpan.FromSeconds(1));
        Assert.False(model.Disposed);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(model.Disposed);
    }

    [Fact]
    public async Task An_eviction_during_a_run_lets_the_run_finish_and_disposes_the_model_afterwards()
    {
        // Room for one of the two: loading the second evicts the first while a call still holds it.
        using var runtime = Runtime(new ModelResidency(MemoryBudgetBytes: (long)(1.5 * MiB * ModelRuntime.MemoryPerFileByte)),
            FakeModelLoader.Manifest("fake-a", _cache.Path, MiB), FakeModelLoader.Manifest("fake-b", _cache.Path, MiB));
        using var use = ModelUse.Begin();
        var running = await Get(runtime, "fake-a");

        await runtime.WarmUpAsync("fake-b", CancellationToken.None);

        Assert.Equal(ModelState.Unloaded, runtime.Status("fake-a").State);
        Assert.Equal("memory_budget", runtime.Status("fake-a").UnloadReason);
        Assert.False(running.Disposed);
        Assert.Equal("fake-a", running.Run());
        use.Dispose();
        Assert.True(running.Disposed);
    }

    [Fact]
    public async Task Loading_past_the_memory_budget_unloads_the_least_recently_used_model()
    {
        // Each file is 1 MiB and a model is estimated at its files × MemoryPerFileByte: two fit in 2.5 such models, three do not.
        using var runtime = Runtime(new ModelResidency(MemoryBudgetBytes: (long)(2.5 * MiB * ModelRuntime.MemoryPerFileByte)),
            FakeModelLoader.Manifest("fake-a", _cache.Path, MiB), FakeModelLoader.Manifest("fake-b", _cache.Path, MiB),
            FakeModelLoader.Manifest("fake-c", _cache.Path, MiB));
        var a = await Get(runtime, "fake-a");
        _time.Advance(TimeSpan.FromSeconds(1));
        var b = await Get(runtime, "fake-b");
        _time.Advance(TimeSpan.FromSeconds(1));
        await Get(runtime, "fake-a");
        _time.Advance(TimeSpan.FromSeconds(1));

        await Get(runtime, "fake-c");

        Assert.Equal(ModelState.Ready, runtime.Status("fake-a").State);
        Assert.Equal(ModelState.Unloaded, runtime.Status("fake-b").State);
        Assert.Equal("memory_budget", runtime.Status("fake-b").UnloadReason);
        Assert.Equal(ModelState.Ready, runtime.Status("fake-c").State);
        Assert.True(b.Disposed);
        Assert.False(a.Disposed);
        Assert.Equal((long)(MiB * ModelRuntime.MemoryPerFileByte), runtime.Status("fake-c").MemoryBytes);
        Assert.Equal(2 * (long)(MiB * ModelRuntime.MemoryPerFileByte), runtime.ResidentBytes);
    }

    [Fact]
    public async Task A_model_larger_than_the_whole_budget_still_loads()
    {
        using var runtime = Runtime(new ModelResidency(MemoryBudgetBytes: MiB), FakeModelLoader.Manifest("fake-a", _cache.Path, 2 * MiB));
        var model = await Get(runtime, "fake-a");
        Assert.Equal("fake-a", model.Run());
        Assert.Equal(ModelState.Ready, runtime.Status("fake-a").State);
    }

    [Fact]
    public async Task Concurrent_requests_during_a_load_share_one_load()
    {
        _loader.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var runtime = Runtime(new ModelResidency(IdleUnloadAfter: Idle));
        var waiting = Enumerable.Range(0, 8).Select(_ => Get(runtime, "fake-a")).ToList();
        Assert.Equal(ModelState.Loading, runtime.Status("fake-a").State);
        _loader.Gate.SetResult();
        var models = await Task.WhenAll(waiting);
        Assert.All(models, m => Assert.Same(models[0], m));
        Assert.Equal(1, _loader.Loads);
    }

    [Fact]
    public async Task The_residency_gauges_report_each_model_loaded_its_memory_and_last_use()
    {
        using var runtime = Runtime(new ModelResidency(IdleUnloadAfter: Idle), FakeModelLoader.Manifest("fake-gauge", _cache.Path, MiB));
        await Get(runtime, "fake-gauge");
        var usedAt = _time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;

        var seen = Observe();
        Assert.Equal(1.0, seen[("iris.model.loaded", "fake-gauge")]);
        Assert.Equal(MiB * ModelRuntime.MemoryPerFileByte, seen[("iris.model.memory", "fake-gauge")]);
        Assert.Equal(usedAt, seen[("iris.model.last_used_timestamp", "fake-gauge")]);

        _time.Advance(Idle);
        seen = Observe();
        Assert.Equal(0.0, seen[("iris.model.loaded", "fake-gauge")]);
        Assert.Equal(0.0, seen[("iris.model.memory", "fake-gauge")]);
    }

    private static Dictionary<(string Instrument, string Model), double> Observe()
    {
        var seen = new Dictionary<(string, string), double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == IrisMetrics.MeterName && instrument.Name.StartsWith("iris.model.", StringComparison.Ordinal)) l.EnableMeasurementEvents(instrument);
        };
        void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            foreach (var tag in tags)
                if (tag.Key == "model" && tag.Value is string model && model.StartsWith("fake-gauge", StringComparison.Ordinal))
                    seen[(instrument.Name, model)] = value;
        }
        listener.SetMeasurementEventCallback<int>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        listener.Start();
        listener.RecordObservableInstruments();
        return seen;
    }
}
