using System.Collections.Concurrent;
using System.Diagnostics;
using Iris.Core.Detection;
using Iris.Core.Models;
using Microsoft.Extensions.Logging;

namespace Iris.Core.Inference;

public enum ModelState { NotLoaded, Pulling, Loading, Ready, Failed }

public sealed record ModelStatus(
    string Name, string Task, string Version, bool Installed, ModelState State,
    string? Error = null, DateTimeOffset? ReadySince = null, double? LoadMs = null);

/// <summary>
/// Loads models once and keeps their ONNX Runtime sessions for the life of the process. Tracks each
/// model's state so readiness can report a model that failed to load instead of the process crashing.
/// </summary>
public sealed class ModelRuntime(
    ModelCatalog catalog, ModelStore store, OnnxSessionFactory sessions, bool autoPull, bool verifyOnLoad,
    ILogger<ModelRuntime>? logger = null) : IDisposable
{
    private static readonly TimeSpan RetryFailedAfter = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<string, Lazy<Task<YoloxDetector>>> _detectors = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, (ModelState State, string? Error, DateTimeOffset At, double? LoadMs)> _states = new(StringComparer.OrdinalIgnoreCase);

    public ModelCatalog Catalog => catalog;

    public ModelStatus Status(string name)
    {
        var manifest = catalog.Get(name);
        var installed = store.IsInstalled(manifest);
        return _states.TryGetValue(manifest.Name, out var s)
            ? new ModelStatus(manifest.Name, manifest.Task, manifest.Version, installed, s.State, s.Error, s.State == ModelState.Ready ? s.At : null, s.LoadMs)
            : new ModelStatus(manifest.Name, manifest.Task, manifest.Version, installed, ModelState.NotLoaded);
    }

    public Task<YoloxDetector> GetDetectorAsync(string name, CancellationToken cancellationToken = default)
    {
        var manifest = catalog.Get(name);
        if (manifest.Task != "detect")
            throw new ModelTaskMismatchException(manifest.Name, manifest.Task, "detect");

        if (_states.TryGetValue(manifest.Name, out var state) && state.State == ModelState.Failed
            && DateTimeOffset.UtcNow - state.At < RetryFailedAfter)
            throw new ModelNotReadyException(manifest.Name, state.Error ?? "it failed to load");

        var lazy = _detectors.GetOrAdd(manifest.Name, _ => new Lazy<Task<YoloxDetector>>(() => LoadDetectorAsync(manifest)));
        if (lazy.Value.IsFaulted)
        {
            // The retry window has passed (checked above): try again, e.g. now that the file was pulled.
            var retry = new Lazy<Task<YoloxDetector>>(() => LoadDetectorAsync(manifest));
            lazy = _detectors.TryUpdate(manifest.Name, retry, lazy) ? retry : _detectors[manifest.Name];
        }
        var task = lazy.Value;
        return task.WaitAsync(cancellationToken);
    }

    /// <summary>Loads a model ahead of its first request. Failures are recorded in its status, never thrown.</summary>
    public async Task WarmUpAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            var manifest = catalog.Get(name);
            if (manifest.Task == "detect")
                await GetDetectorAsync(name, cancellationToken);
            else
                _states[manifest.Name] = (ModelState.Failed, $"task '{manifest.Task}' is not served by this version of Iris", DateTimeOffset.UtcNow, null);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger?.LogError("Model {Model} is not ready: {Error}", name, e.Message);
        }
    }

    private async Task<YoloxDetector> LoadDetectorAsync(ModelManifest manifest)
    {
        var stopwatch = Stopwatch.StartNew();
        try
        {
            await EnsureInstalledAsync(manifest);
            _states[manifest.Name] = (ModelState.Loading, null, DateTimeOffset.UtcNow, null);
            var detector = await Task.Run(async () =>
            {
                var spec = manifest.Detector!;
                var labels = File.ReadAllLines(store.FilePath(manifest, spec.Labels))
                    .Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
                var session = sessions.Create(store.FilePath(manifest, spec.Model));
                try
                {
                    var loaded = new YoloxDetector(manifest, session, labels, sessions.Settings.MaxConcurrentRuns);
                    // ONNX Runtime allocates its arenas and picks kernels on the first run; pay that here, not in a user's request.
                    var blank = new Imaging.DecodedImage(32, 32, new byte[32 * 32 * 3], Imaging.ImageFormat.Png, 1, 0);
                    await loaded.DetectAsync(blank, new DetectionParameters(1f, 1));
                    return loaded;
                }
                catch
                {
                    session.Dispose();
                    throw;
                }
            });
            _states[manifest.Name] = (ModelState.Ready, null, DateTimeOffset.UtcNow, stopwatch.Elapsed.TotalMilliseconds);
            logger?.LogInformation("Model {Model} ready in {LoadMs:F0} ms", manifest.Name, stopwatch.Elapsed.TotalMilliseconds);
            return detector;
        }
        catch (Exception e)
        {
            var reason = e is ModelNotReadyException notReady ? notReady.Message : $"loading failed: {e.Message}";
            _states[manifest.Name] = (ModelState.Failed, reason, DateTimeOffset.UtcNow, null);
            throw e as ModelNotReadyException ?? new ModelNotReadyException(manifest.Name, $"loading failed: {e.Message}");
        }
    }

    private async Task EnsureInstalledAsync(ModelManifest manifest)
    {
        if (!store.IsInstalled(manifest))
        {
            if (!autoPull)
                throw new ModelNotReadyException(manifest.Name,
                    $"it is not installed in {store.ModelDirectory(manifest)}. Run `iris models pull {manifest.Name}` or enable Models:AutoPull with Models:Mirror set.");
            _states[manifest.Name] = (ModelState.Pulling, null, DateTimeOffset.UtcNow, null);
            try
            {
                await store.PullAsync(manifest);
            }
            catch (ModelPullException e)
            {
                throw new ModelNotReadyException(manifest.Name, $"it is not installed and could not be pulled: {e.Message}");
            }
        }
        else if (verifyOnLoad)
        {
            var bad = store.Verify(manifest).Where(c => c.State != ModelFileState.Ok).ToList();
            if (bad.Count > 0)
                throw new ModelNotReadyException(manifest.Name,
                    $"its files failed verification ({string.Join("; ", bad.Select(b => $"{b.Path}: {b.Detail}"))}). Run `iris models pull {manifest.Name} --force`.");
        }
    }

    public void Dispose()
    {
        foreach (var lazy in _detectors.Values)
            if (lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully)
                lazy.Value.Result.Dispose();
    }
}
