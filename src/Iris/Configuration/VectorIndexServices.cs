using Iris.Core.Library.Vectors;

namespace Iris.Configuration;

/// <summary>Registers the <see cref="IVectorIndex"/> chosen by <c>Library:Index</c>, with its options.</summary>
public static class VectorIndexServices
{
    public static IServiceCollection AddIrisVectorIndex(this IServiceCollection services, IrisOptions options)
    {
        var library = options.Library;
        switch (library.Index.ToLowerInvariant())
        {
            case "embedded":
                services.AddSingleton(_ => new EmbeddedVectorIndex(library.IndexDatabase, library.IndexThreads, library.Quantize));
                services.AddSingleton<IVectorIndex>(sp => sp.GetRequiredService<EmbeddedVectorIndex>());
                // Loads the vectors into memory when the host starts, so the first search does not pay for it.
                services.AddHostedService(sp => new EmbeddedVectorIndexLoad(
                    sp.GetRequiredService<EmbeddedVectorIndex>(), sp.GetRequiredService<ILogger<EmbeddedVectorIndexLoad>>()));
                break;
            case "pgvector":
                services.AddSingleton<IVectorIndex>(_ => new PgVectorIndex(library.IndexPostgres, new PgVectorSettings(
                    library.IndexEfSearch, library.IndexExactBelow, library.IndexHnswM, library.IndexHnswEfConstruction, library.IndexSchema)));
                break;
            default:
                throw new InvalidConfigurationException([$"Library:Index '{library.Index}' is not available in this build (embedded or pgvector)."]);
        }
        return services;
    }

    /// <summary>The checks of the Library:Index* options (called by <see cref="IrisConfiguration.Validate"/>).</summary>
    public static void Validate(LibraryOptions library, List<string> errors)
    {
        if (!library.Index.Equals("embedded", StringComparison.OrdinalIgnoreCase) && !library.Index.Equals("pgvector", StringComparison.OrdinalIgnoreCase))
            errors.Add($"Library:Index must be embedded or pgvector; got '{library.Index}'.");
        if (string.IsNullOrWhiteSpace(library.IndexDatabase))
            errors.Add("Library:IndexDatabase must not be empty.");
        if (library.IndexThreads is < 0 or > 1024)
            errors.Add($"Library:IndexThreads must be between 0 (one per core) and 1024; got {library.IndexThreads}.");
        if (library.IndexEfSearch is < 1 or > 1000)
            errors.Add($"Library:IndexEfSearch must be between 1 and 1000 (pgvector's limit); got {library.IndexEfSearch}.");
        if (library.IndexExactBelow < 0)
            errors.Add($"Library:IndexExactBelow must not be negative; got {library.IndexExactBelow}.");
        if (library.IndexHnswM is < 2 or > 100)
            errors.Add($"Library:IndexHnswM must be between 2 and 100 (pgvector's limits); got {library.IndexHnswM}.");
        if (library.IndexHnswEfConstruction < 2 * library.IndexHnswM || library.IndexHnswEfConstruction > 1000)
            errors.Add($"Library:IndexHnswEfConstruction must be between twice Library:IndexHnswM and 1000 (pgvector's limits); got {library.IndexHnswEfConstruction}.");
        if (!System.Text.RegularExpressions.Regex.IsMatch(library.IndexSchema, "^[a-z_][a-z0-9_]*$"))
            errors.Add($"Library:IndexSchema must be a plain lower-case SQL identifier; got '{library.IndexSchema}'.");
    }

    private sealed class EmbeddedVectorIndexLoad(EmbeddedVectorIndex index, ILogger<EmbeddedVectorIndexLoad> logger) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            // Nothing indexed yet: leave the file to the first write (a server that never uses the library creates none).
            if (!File.Exists(index.Path)) return;
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            await index.SyncAsync(stoppingToken);
            logger.LogInformation("Vector index {Path} loaded in {Seconds:F1} s", index.Path, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    }
}
