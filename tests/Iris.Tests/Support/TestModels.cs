using Iris.Configuration;
using Iris.Core.Inference;
using Microsoft.Extensions.DependencyInjection;

namespace Iris.Tests.Support;

/// <summary>The real domain services (catalog, store, loaders, runtime) over a private cache pulled from the shared mirror.</summary>
public sealed class MirrorModels : IDisposable
{
    private readonly TempDirectory _cache = new();
    private readonly ServiceProvider _services;

    public MirrorModels()
    {
        var options = IrisConfiguration.Load(IrisConfiguration.Build(overrides: new Dictionary<string, string?>
        {
            ["Models:CacheDirectory"] = _cache.Path,
            ["Models:Mirror"] = TestPaths.ModelMirror,
        }));
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddIrisCore(options);
        _services = services.BuildServiceProvider();
    }

    /// <summary>The private model cache; a user model folder written here before the first use of <see cref="Runtime"/> joins the catalog.</summary>
    public string CacheDirectory => _cache.Path;

    public ModelRuntime Runtime => _services.GetRequiredService<ModelRuntime>();
    public T Get<T>() where T : notnull => _services.GetRequiredService<T>();

    public void Dispose()
    {
        _services.Dispose();
        _cache.Dispose();
    }
}
