using System.Collections.Concurrent;
using System.Diagnostics;
using Iris.Core.Imaging;
using Iris.Core.Models;
using Iris.Core.Telemetry;
using Microsoft.Extensions.Logging;

namespace Iris.Core.Inference;

/// <summary>
/// Where a model stands. <see cref="Unloaded"/>: it was loaded and has been unloaded (idle or memory budget); the next
/// request loads it again, so it is not a readiness failure.
/// </summary>
public enum ModelState { NotLoaded, Pulling, Loading, Ready, Failed, Unloaded }

/// <summary>
/// One model's state. <paramref name="LastUsed"/>: when a request last got or gave back the model.
/// <paramref name="MemoryBytes"/>: the estimate (<see cref="ModelRuntime.EstimateMemory"/>) while it is loaded.
/// <paramref name="UnloadReason"/>: <c>idle</c> or <c>memory_budget</c> once unloaded. <paramref name="InUse"/>: calls
/// holding it now.
/// </summary>
public sealed record ModelStatus(
    string Name, string Task, string Version, bool Installed, ModelState State,
    string? Error = null, DateTimeOffset? ReadySince = null, double? LoadMs = null,
    DateTimeOffset? LastUsed = null, long? MemoryBytes = null, string? UnloadReason = null, int InUse = 0);

/// <summary>
/// What the runtime keeps resident (<c>Models:IdleUnloadAfter</c>, <c>Models:MemoryBudget</c>); null is no limit.
/// </summary>
/// <param name="MeasureLoads">
/// Take a model's memory from the RSS growth of a load that ran alone (<see cref="ModelRuntime.EstimateMemory"/>);
/// false keeps to the files-based estimate, which tests need to be exact.
/// </param>
public sealed record ModelResidency(TimeSpan? IdleUnloadAfter = null, long? MemoryBudgetBytes = null, bool MeasureLoads = true)
{
    public static readonly ModelResidency KeepEverything = new();
}

/// <summary>
/// Loads models on first use (or ahead of it, <see cref="WarmUpAsync"/>) and keeps them, with their ONNX Runtime
/// sessions, until they are unloaded: after <see cref="ModelResidency.IdleUnloadAfter"/> without use, or as the least
/// recently used one when loading another would exceed <see cref="ModelResidency.MemoryBudgetBytes"/>. A model is never
/// disposed while a call holds it (<see cref="ModelUse"/>): unloading takes it out of service at once, so new calls load
/// a fresh copy, and the old one is disposed when its last user gives it back. Tracks each model's state so readiness
/// can report a model that failed to load instead of the process crashing.
/// </summary>
public sealed class ModelRuntime : IDisposable
{
    private static readonly TimeSpan RetryFailedAfter = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Resident memory per byte of a model's files, for a model whose load could not be measured (<see
    /// cref="EstimateMemory"/>). bench/residency measured 2.9× (clip-tiny) to 28× (ultraface-rfb-640, whose warm-up run
    /// leaves a 640×480 input's activations in the arena) and 8× over all built-in models together.
    /// </summary>
    public const double MemoryPerFileByte = 8;

    private readonly ModelCatalog _catalog;
    private readonly ModelStore _store;
    private readonly Dictionary<string, IModelLoader> _loaders;
    private readonly bool _autoPull;
    private readonly bool _verifyOnLoad;
    private readonly ModelResidency _residency;
    private readonly TimeProvider _time;
    private readonly ILogger<ModelRuntime>? _logger;
    private readonly ConcurrentDictionary<string, Resident> _resident = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, StateEntry> _states = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _lastUsed = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, long> _measured = new(StringComparer.OrdinalIgnoreCase);
    private readonly object _budgetGate = new();
    private int _loadsInFlight;
    private long _loadsStarted;
    private readonly IDisposable _gauges;

    private sealed record StateEntry(ModelState State, string? Error, DateTimeOffset At, double? LoadMs, string? UnloadReason = null);

    public ModelRuntime(ModelCatalog catalog, ModelStore store, IEnumerable<IModelLoader> loaders, bool autoPull, bool verifyOnLoad,
        ILogger<ModelRuntime>? logger = null, ModelResidency? residency = null, TimeProvider? time = null)
    {
        _catalog = catalog;
        _store = store;
        _loaders = loaders.ToDictionary(l => l.Task, StringComparer.OrdinalIgnoreCase);
        _autoPull = autoPull;
        _verifyOnLoad = verifyOnLoad;
        _logger = logger;
        _residency = residency ?? ModelResidency.KeepEverything;
        _time = time ?? TimeProvider.System;
        _gauges = IrisMetrics.ObserveModels(Observe);
    }

    public ModelCatalog Catalog => _catalog;

    public ModelResidency Residency => _residency;

    /// <summary>Tasks this build can serve.</summary>
    public IReadOnlyCollection<string> Tasks => _loaders.Keys;

    /// <summary>The estimated memory of the models loaded now.</summary>
    public long ResidentBytes => _resident.Values.Where(r => r.IsLoaded && !r.Retired).Sum(r => r.MemoryBytes);

    public ModelStatus Status(string name)
    {
        var manifest = _catalog.Get(name);
        var installed = _store.IsInstalled(manifest);
        DateTimeOffset? lastUsed = _lastUsed.TryGetValue(manifest.Name, out var used) ? used : null;
        if (!_states.TryGetValue(manifest.Name, out var s))
            return new ModelStatus(manifest.Name, manifest.Task, manifest.Version, installed, ModelState.NotLoaded, LastUsed: lastUsed);
        var resident = _resident.TryGetValue(manifest.Name, out var r) && !r.Retired ? r : null;
        return new ModelStatus(manifest.Name, manifest.Task, manifest.Version, installed, s.State, s.Error,
            s.State == ModelState.Ready ? s.At : null, s.LoadMs, lastUsed,
            s.State == ModelState.Ready ? resident?.MemoryBytes : null, s.UnloadReason, resident?.Leases ?? 0);
    }

    /// <summary>
    /// The loaded model <paramref name="name"/>, which must be a <paramref name="task"/> model; loads (and pulls) it on
    /// first use, or again after it was unloaded. Held until the caller's <see cref="ModelUse"/> scope ends.
    /// </summary>
    public Task<T> GetAsync<T>(string name, string task, CancellationToken cancellationToken = default) where T : class, ILoadedModel =>
        GetAsync<T>(name, task, reason: null, cancellationToken);

    private async Task<T> GetAsync<T>(string name, string task, string? reason, CancellationToken cancellationToken) where T : class, ILoadedModel
    {
        var manifest = _catalog.Get(name);
        if (!string.Equals(manifest.Task, task, StringComparison.OrdinalIgnoreCase))
            throw new ModelTaskMismatchException(manifest.Name, manifest.Task, task);

        if (_states.TryGetValue(manifest.Name, out var state) && state.State == ModelState.Failed
            && _time.GetUtcNow() - state.At < RetryFailedAfter)
            throw new ModelNotReadyException(manifest.Name, state.Error ?? "it failed to load");

        while (true)
        {
            var resident = _resident.GetOrAdd(manifest.Name, _ => new Resident(this, manifest,
                reason ?? (_states.TryGetValue(manifest.Name, out var s) && s.State == ModelState.Unloaded ? "reload_after_unload" : "request")));
            // An unload took it out of service between the lookup and now: the next lookup finds no entry and loads anew.
            if (!resident.TryAcquire()) continue;
            ILoadedModel model;
            try
            {
                model = await resident.Load.Value.WaitAsync(cancellationToken);
            }
            catch
            {
                // A failed load leaves no entry behind: the Failed state holds the error through the retry window.
                if (resident.Load.Value.IsFaulted) _resident.TryRemove(new KeyValuePair<string, Resident>(manifest.Name, resident));
                resident.Release();
                throw;
            }
            if (!ModelUse.TryHold(resident.Release)) resident.Release();
            return model as T ?? throw new InvalidOperationException($"Model '{name}' loaded as {model.GetType().Name}, not {typeof(T).Name}.");
        }
    }

    /// <summary>
    /// Loads a model ahead of its first request (<paramref name="reason"/>: <c>preload</c> for Models:Preload, <c>start</c>
    /// for what start-up needs otherwise). Failures are recorded in its status, never thrown.
    /// </summary>
    public async Task WarmUpAsync(string name, CancellationToken cancellationToken, string reason = "start")
    {
        try
        {
            var manifest = _catalog.Get(name);
            await GetAsync<ILoadedModel>(manifest.Name, manifest.Task, reason, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _logger?.LogError("Model {Model} is not ready: {Error}", name, e.Message);
        }
    }

    /// <summary>
    /// The memory a model takes once loaded: the growth of the process's RSS over its last load that ran alone (no
    /// other load in flight, so the growth is its own: sessions, weights, and the arena its warm-up run left), else its
    /// installed files' bytes × <see cref="MemoryPerFileByte"/>.
    /// </summary>
    public long EstimateMemory(ModelManifest manifest)
    {
        if (_measured.TryGetValue(manifest.Name, out var measured)) return measured;
        var directory = _store.ModelDirectory(manifest);
        long bytes = 0;
        foreach (var file in manifest.Files)
        {
            var info = new FileInfo(Path.Combine(directory, file.Path));
            bytes += info.Exists ? info.Length : file.Bytes ?? 0;
        }
        return (long)(bytes * MemoryPerFileByte);
    }

    private async Task<ILoadedModel> LoadAsync(Resident resident)
    {
        var manifest = resident.Manifest;
        var stopwatch = Stopwatch.StartNew();
        try
        {
            if (!_loaders.TryGetValue(manifest.Task, out var loader))
                throw new ModelNotReadyException(manifest.Name,
                    $"this version of Iris cannot serve '{manifest.Task}' models (it serves: {string.Join(", ", _loaders.Keys.Order())})");
            await EnsureInstalledAsync(manifest);
            SetState(manifest.Name, new StateEntry(ModelState.Loading, null, _time.GetUtcNow(), null));
            MakeRoom(resident, EstimateMemory(manifest));
            var files = new ModelFiles(_store.ModelDirectory(manifest));
            var model = await MeasuredLoadAsync(resident, () => loader.LoadAsync(manifest, files, CancellationToken.None));
            SetState(manifest.Name, new StateEntry(ModelState.Ready, null, _time.GetUtcNow(), stopwatch.Elapsed.TotalMilliseconds));
            IrisMetrics.ModelLoadDuration.Record(stopwatch.Elapsed.TotalSeconds, new KeyValuePair<string, object?>("model", manifest.Name), new KeyValuePair<string, object?>("outcome", "ready"));
            IrisMetrics.ModelLoads.Add(1, new KeyValuePair<string, object?>("model", manifest.Name), new KeyValuePair<string, object?>("reason", resident.Reason));
            if (model.LoadNote is { } note)
                _logger?.LogInformation("Model {Model} ready in {LoadMs:F0} ms ({Reason}, about {MemoryMiB} MiB; {LoadNote})",
                    manifest.Name, stopwatch.Elapsed.TotalMilliseconds, resident.Reason, resident.MemoryBytes >> 20, note);
            else
                _logger?.LogInformation("Model {Model} ready in {LoadMs:F0} ms ({Reason}, about {MemoryMiB} MiB)",
                    manifest.Name, stopwatch.Elapsed.TotalMilliseconds, resident.Reason, resident.MemoryBytes >> 20);
            return model;
        }
        catch (Exception e)
        {
            var notReady = e as ModelNotReadyException ?? new ModelNotReadyException(manifest.Name, $"loading failed: {e.Message}");
            SetState(manifest.Name, new StateEntry(ModelState.Failed, notReady.Message, _time.GetUtcNow(), null));
            IrisMetrics.ModelLoadDuration.Record(stopwatch.Elapsed.TotalSeconds, new KeyValuePair<string, object?>("model", manifest.Name), new KeyValuePair<string, object?>("outcome", "failed"));
            throw notReady;
        }
    }

    /// <summary>
    /// Runs the loader and, when no other load overlapped it, keeps the RSS growth as the model's memory; the budget is
    /// then checked again with it, since the estimate made before the load may have been low.
    /// </summary>
    private async Task<ILoadedModel> MeasuredLoadAsync(Resident resident, Func<Task<ILoadedModel>> load)
    {
        var alone = Interlocked.Increment(ref _loadsInFlight) == 1;
        var started = Interlocked.Increment(ref _loadsStarted);
        var before = Environment.WorkingSet;
        ILoadedModel model;
        try
        {
            model = await Task.Run(load);
            // A load's checks (warm-up runs, batch probes) free more than the model keeps; glibc keeps freed pages in its
            // arenas unless asked, and they would count as the model's memory.
            AfterBurstTrim.NativeHeap.Trim();
        }
        finally
        {
            Interlocked.Decrement(ref _loadsInFlight);
        }
        var grown = Environment.WorkingSet - before;
        if (_residency.MeasureLoads && alone && Interlocked.Read(ref _loadsStarted) == started && grown > 0)
        {
            _measured[resident.Manifest.Name] = grown;
            MakeRoom(resident, grown);
        }
        return model;
    }

    /// <summary>
    /// Unloads least recently used models until <paramref name="bytes"/> more fit the budget. Those in use go last, and
    /// their memory comes back when their runs end. One model larger than the whole budget still loads (with a warning):
    /// refusing it would make the budget a way to break a route rather than to bound memory.
    /// </summary>
    private void MakeRoom(Resident loading, long bytes)
    {
        lock (_budgetGate)
        {
            loading.MemoryBytes = bytes;
            if (_residency.MemoryBudgetBytes is not { } budget) return;
            while (true)
            {
                var others = _resident.Values.Where(r => r != loading && !r.Retired).ToList();
                var resident = others.Sum(r => r.MemoryBytes);
                if (resident + bytes <= budget) return;
                var victim = others.Where(r => r.IsLoaded).OrderBy(r => r.Leases > 0).ThenBy(r => r.LastUsed).FirstOrDefault();
                if (victim is null)
                {
                    _logger?.LogWarning("Model {Model} (about {ModelMiB} MiB) does not fit Models:MemoryBudget ({Budget} MiB) with {Resident} MiB loaded or loading; loading it anyway",
                        loading.Manifest.Name, bytes >> 20, budget >> 20, resident >> 20);
                    return;
                }
                Unload(victim, "memory_budget");
            }
        }
    }

    private void Unload(Resident resident, string reason)
    {
        if (!resident.Retire()) return;
        _resident.TryRemove(new KeyValuePair<string, Resident>(resident.Manifest.Name, resident));
        var name = resident.Manifest.Name;
        var idleFor = _time.GetUtcNow() - resident.LastUsed;
        SetState(name, new StateEntry(ModelState.Unloaded, null, _time.GetUtcNow(), null, reason));
        IrisMetrics.ModelUnloads.Add(1, new KeyValuePair<string, object?>("model", name), new KeyValuePair<string, object?>("reason", reason));
        if (resident.Leases > 0)
            _logger?.LogInformation("Model {Model} unloaded ({Reason}; unused for {IdleSeconds:F0} s, about {MemoryMiB} MiB); disposed when its {InUse} running call(s) end",
                name, reason, idleFor.TotalSeconds, resident.MemoryBytes >> 20, resident.Leases);
        else
            _logger?.LogInformation("Model {Model} unloaded ({Reason}; unused for {IdleSeconds:F0} s, about {MemoryMiB} MiB)",
                name, reason, idleFor.TotalSeconds, resident.MemoryBytes >> 20);
    }

    private void SetState(string name, StateEntry entry) => _states[name] = entry;

    private void Touched(string name, DateTimeOffset at) => _lastUsed[name] = at;

    private IEnumerable<ModelObservation> Observe()
    {
        foreach (var (name, state) in _states)
        {
            var loaded = state.State == ModelState.Ready && _resident.TryGetValue(name, out var r) && !r.Retired ? r : null;
            var task = _catalog.Contains(name) ? _catalog.Get(name).Task : "";
            yield return new ModelObservation(name, task, loaded is not null, loaded?.MemoryBytes ?? 0,
                _lastUsed.TryGetValue(name, out var used) ? used : null);
        }
    }

    private async Task EnsureInstalledAsync(ModelManifest manifest)
    {
        if (!_store.IsInstalled(manifest))
        {
            if (!_autoPull)
                throw new ModelNotReadyException(manifest.Name,
                    $"it is not installed in {_store.ModelDirectory(manifest)}. Run `iris models pull {manifest.Name}` or enable Models:AutoPull with Models:Mirror set.");
            SetState(manifest.Name, new StateEntry(ModelState.Pulling, null, _time.GetUtcNow(), null));
            try
            {
                await _store.PullAsync(manifest);
            }
            catch (ModelPullException e)
            {
                throw new ModelNotReadyException(manifest.Name, $"it is not installed and could not be pulled: {e.Message}");
            }
        }
        else if (_verifyOnLoad)
        {
            var bad = _store.Verify(manifest).Where(c => c.State != ModelFileState.Ok).ToList();
            if (bad.Count > 0)
                throw new ModelNotReadyException(manifest.Name,
                    $"its files failed verification ({string.Join("; ", bad.Select(b => $"{b.Path}: {b.Detail}"))}). Run `iris models pull {manifest.Name} --force`.");
        }
    }

    public void Dispose()
    {
        _gauges.Dispose();
        foreach (var resident in _resident.Values)
            resident.DisposeNow();
        _resident.Clear();
    }

    /// <summary>
    /// One load of one model and the calls holding it. Retired: out of service (unloaded); the model is disposed when
    /// the last holder gives it back, or at once when none does.
    /// </summary>
    private sealed class Resident
    {
        private readonly ModelRuntime _runtime;
        private readonly Lock _gate = new();
        private ITimer? _idleTimer;
        private bool _disposed;

        public Resident(ModelRuntime runtime, ModelManifest manifest, string reason)
        {
            _runtime = runtime;
            Manifest = manifest;
            Reason = reason;
            LastUsed = runtime._time.GetUtcNow();
            Load = new Lazy<Task<ILoadedModel>>(() => runtime.LoadAsync(this));
        }

        public ModelManifest Manifest { get; }

        /// <summary>Why it was loaded: start, preload, request or reload_after_unload.</summary>
        public string Reason { get; }

        public Lazy<Task<ILoadedModel>> Load { get; }

        public long MemoryBytes { get; set; }

        public int Leases { get; private set; }

        public bool Retired { get; private set; }

        public DateTimeOffset LastUsed { get; private set; }

        public bool IsLoaded => Load.IsValueCreated && Load.Value.IsCompletedSuccessfully;

        public bool TryAcquire()
        {
            lock (_gate)
            {
                if (Retired) return false;
                Leases++;
                LastUsed = _runtime._time.GetUtcNow();
            }
            _runtime.Touched(Manifest.Name, LastUsed);
            return true;
        }

        public void Release()
        {
            bool dispose;
            lock (_gate)
            {
                Leases--;
                LastUsed = _runtime._time.GetUtcNow();
                dispose = Retired && Leases == 0;
                if (!Retired && Leases == 0 && IsLoaded && _runtime._residency.IdleUnloadAfter is { } idle)
                {
                    // One timer per model, pushed back by every use: it fires only after a full idle period.
                    if (_idleTimer is null) _idleTimer = _runtime._time.CreateTimer(_ => IdleCheck(), null, idle, Timeout.InfiniteTimeSpan);
                    else _idleTimer.Change(idle, Timeout.InfiniteTimeSpan);
                }
            }
            _runtime.Touched(Manifest.Name, LastUsed);
            if (dispose) DisposeModel();
        }

        private void IdleCheck()
        {
            var idle = _runtime._residency.IdleUnloadAfter!.Value;
            lock (_gate)
            {
                if (Retired || Leases > 0) return;
                var remaining = idle - (_runtime._time.GetUtcNow() - LastUsed);
                if (remaining > TimeSpan.Zero)
                {
                    _idleTimer?.Change(remaining, Timeout.InfiniteTimeSpan);
                    return;
                }
            }
            _runtime.Unload(this, "idle");
        }

        /// <summary>Takes the model out of service; false when it already was. Disposes it now when nobody holds it.</summary>
        public bool Retire()
        {
            bool dispose;
            lock (_gate)
            {
                if (Retired) return false;
                Retired = true;
                _idleTimer?.Dispose();
                dispose = Leases == 0;
            }
            if (dispose) DisposeModel();
            return true;
        }

        public void DisposeNow()
        {
            lock (_gate)
            {
                Retired = true;
                _idleTimer?.Dispose();
            }
            DisposeModel();
        }

        private void DisposeModel()
        {
            lock (_gate)
            {
                if (_disposed || !IsLoaded) return;
                _disposed = true;
            }
            Load.Value.Result.Dispose();
            // Unloading is rare and happens when the model is idle (or a load already costs seconds), so a full collection
            // is affordable: the model's managed arrays (labels, vocabularies, buffers) go now, and the sessions' weights
            // and arenas, which went back to glibc's malloc, are returned by the trim instead of staying in its arenas.
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            AfterBurstTrim.NativeHeap.Trim();
        }
    }
}
