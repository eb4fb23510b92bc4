using System.Collections.Concurrent;
using System.Diagnostics;
using Iris.Core.Models;
using Iris.Core.Telemetry;
using Microsoft.Extensions.Logging;

namespace Iris.Core.Inference;

public enum ModelState { NotLoaded, Pulling, Loading, Ready, Failed }

public sealed record ModelStatus(
    string Name, string Task, string Version, bool Installed, ModelState State,
    string? Error = null, DateTimeOffset? ReadySince = null, double? LoadMs = null);

/// <summary>
/// Loads models once and keeps them (and their ONNX Runtime sessions) for the life of the process. Tracks each
/// model's state so readiness can report a model that failed to load instead of the process crashing.
/// </summary>
public sealed class ModelRuntime : IDisposable
{
    private static readonly TimeSpan RetryFailedAfter = TimeSpan.FromSeconds(30);

    private readonly ModelCatalog _catalog;
    private readonly ModelStore _store;
    private readonly Dictionary<string, IModelLoader> _loaders;
    private readonly bool _autoPull;
    private readonly bool _verifyOnLoad;
    private readonly ILogger<ModelRuntime>? _logger;
    private readonly ConcurrentDictionary<string, Lazy<Task<ILoadedModel>>> _loaded = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, (ModelState State, string? Error, DateTimeOffset At, double? LoadMs)> _states = new(StringComparer.OrdinalIgnoreCase);

    public ModelRuntime(ModelCatalog catalog, ModelStore store, IEnumerable<IModelLoader> loaders, bool autoPull, bool verifyOnLoad, ILogger<ModelRuntime>? logger = null)
    {
        _catalog = catalog;
        _store = store;
        _loaders = loaders.ToDictionary(l => l.Task, StringComparer.OrdinalIgnoreCase);
        _autoPull = autoPull;
        _verifyOnLoad = verifyOnLoad;
        _logger = logger;
    }

    public ModelCatalog Catalog => _catalog;

    /// <summary>Tasks this build can serve.</summary>
    public IReadOnlyCollection<string> Tasks => _loaders.Keys;

    public ModelStatus Status(string name)
    {
        var manifest = _catalog.Get(name);
        var installed = _store.IsInstalled(manifest);
        return _states.TryGetValue(manifest.Name, out var s)
            ? new ModelStatus(manifest.Name, manifest.Task, manifest.Version, installed, s.State, s.Error, s.State == ModelState.Ready ? s.At : null, s.LoadMs)
            : new ModelStatus(manifest.Name, manifest.Task, manifest.Version, installed, ModelState.NotLoaded);
    }

    /// <summary>The loaded model <paramref name="name"/>, which must be a <paramref name="task"/> model; loads (and pulls) it on first use.</summary>
    public async Task<T> GetAsync<T>(string name, string task, CancellationToken cancellationToken = default) where T : class, ILoadedModel
    {
        var manifest = _catalog.Get(name);
        if (!string.Equals(manifest.Task, task, StringComparison.OrdinalIgnoreCase))
            throw new ModelTaskMismatchException(manifest.Name, manifest.Task, task);

        if (_states.TryGetValue(manifest.Name, out var state) && state.State == ModelState.Failed
            && DateTimeOffset.UtcNow - state.At < RetryFailedAfter)
            throw new ModelNotReadyException(manifest.Name, state.Error ?? "it failed to load");

        var lazy = _loaded.GetOrAdd(manifest.Name, _ => new Lazy<Task<ILoadedModel>>(() => LoadAsync(manifest)));
        if (lazy.Value.IsFaulted)
        {
            // The retry window has passed (checked above): try again, e.g. now that the file was pulled.
            var retry = new Lazy<Task<ILoadedModel>>(() => LoadAsync(manifest));
            lazy = _loaded.TryUpdate(manifest.Name, retry, lazy) ? retry : _loaded[manifest.Name];
        }
        var model = await lazy.Value.WaitAsync(cancellationToken);
        return model as T ?? throw new InvalidOperationException($"Model '{name}' loaded as {model.GetType().Name}, not {typeof(T).Name}.");
    }

    /// <summary>Loads a model ahead of its first request. Failures are recorded in its status, never thrown.</summary>
    public async Task WarmUpAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            var manifest = _catalog.Get(name);
            await GetAsync<ILoadedModel>(manifest.Name, manifest.Task, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _logger?.LogError("Model {Model} is not ready: {Error}", name, e.Message);
        }
    }

    private async Task<ILoadedModel> LoadAsync(ModelManifest manifest)
    {
        var stopwatch = Stopwatch.StartNew();
        try
        {
            if (!_loaders.TryGetValue(manifest.Task, out var loader))
                throw new ModelNotReadyException(manifest.Name,
                    $"this version of Iris cannot serve '{manifest.Task}' models (it serves: {string.Join(", ", _loaders.Keys.Order())})");
            await EnsureInstalledAsync(manifest);
            _states[manifest.Name] = (ModelState.Loading, null, DateTimeOffset.UtcNow, null);
            var files = new ModelFiles(_store.ModelDirectory(manifest));
            var model = await Task.Run(() => loader.LoadAsync(manifest, files, CancellationToken.None));
            _states[manifest.Name] = (ModelState.Ready, null, DateTimeOffset.UtcNow, stopwatch.Elapsed.TotalMilliseconds);
            IrisMetrics.ModelLoadDuration.Record(stopwatch.Elapsed.TotalSeconds, new KeyValuePair<string, object?>("model", manifest.Name), new KeyValuePair<string, object?>("outcome", "ready"));
            if (model.LoadNote is { } note)
                _logger?.LogInformation("Model {Model} ready in {LoadMs:F0} ms ({LoadNote})", manifest.Name, stopwatch.Elapsed.TotalMilliseconds, note);
            else
                _logger?.LogInformation("Model {Model} ready in {LoadMs:F0} ms", manifest.Name, stopwatch.Elapsed.TotalMilliseconds);
            return model;
        }
        catch (Exception e)
        {
            var notReady = e as ModelNotReadyException ?? new ModelNotReadyException(manifest.Name, $"loading failed: {e.Message}");
            _states[manifest.Name] = (ModelState.Failed, notReady.Message, DateTimeOffset.UtcNow, null);
            IrisMetrics.ModelLoadDuration.Record(stopwatch.Elapsed.TotalSeconds, new KeyValuePair<string, object?>("model", manifest.Name), new KeyValuePair<string, object?>("outcome", "failed"));
            throw notReady;
        }
    }

    private async Task EnsureInstalledAsync(ModelManifest manifest)
    {
        if (!_store.IsInstalled(manifest))
        {
            if (!_autoPull)
                throw new ModelNotReadyException(manifest.Name,
                    $"it is not installed in {_store.ModelDirectory(manifest)}. Run `iris models pull {manifest.Name}` or enable Models:AutoPull with Models:Mirror set.");
            _states[manifest.Name] = (ModelState.Pulling, null, DateTimeOffset.UtcNow, null);
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
        foreach (var lazy in _loaded.Values)
            if (lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully)
                lazy.Value.Result.Dispose();
    }
}
