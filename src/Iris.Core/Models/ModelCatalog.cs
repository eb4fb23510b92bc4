using Microsoft.Extensions.Logging;

namespace Iris.Core.Models;

/// <summary>
/// Every model Iris knows by name: the manifests shipped with Iris, plus any <c>manifest.json</c> a user
/// placed in a model folder of the cache (<c>{cache}/{name}/manifest.json</c>), which wins over a
/// built-in manifest of the same name.
/// </summary>
public sealed class ModelCatalog
{
    private readonly Dictionary<string, ModelManifest> _manifests;

    public ModelCatalog(IEnumerable<ModelManifest> builtIn, string cacheDirectory, ILogger<ModelCatalog>? logger = null)
    {
        _manifests = builtIn.ToDictionary(m => m.Name, StringComparer.OrdinalIgnoreCase);
        if (!Directory.Exists(cacheDirectory)) return;
        foreach (var path in Directory.EnumerateFiles(cacheDirectory, "manifest.json", new EnumerationOptions { RecurseSubdirectories = true, MaxRecursionDepth = 1 }))
        {
            try
            {
                var manifest = ModelManifest.Parse(File.ReadAllText(path), path);
                _manifests[manifest.Name] = manifest;
            }
            catch (InvalidModelManifestException e)
            {
                // One broken user manifest must not take the other models down with it.
                logger?.LogError("Skipping model manifest {Path}: {Reason}", path, e.Message);
            }
        }
    }

    public IReadOnlyCollection<ModelManifest> All => _manifests.Values;

    public ModelManifest Get(string name) =>
        _manifests.TryGetValue(name, out var manifest)
            ? manifest
            : throw new ModelNotFoundException(name, _manifests.Keys.Order());

    public bool Contains(string name) => _manifests.ContainsKey(name);
}
