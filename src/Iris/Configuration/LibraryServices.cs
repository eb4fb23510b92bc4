using Iris.Core.Jobs.Sqlite;
using Iris.Core.Library;
using Iris.Core.Library.People;
using Iris.Core.Library.Vectors;
using Iris.Core.Models;
using Iris.Core.Storage;
using Iris.Core.Tasks;
using Iris.Core.Tasks.Embeddings;

namespace Iris.Configuration;

/// <summary>
/// Registers the image library: its metadata in the job database (SQLite, or PostgreSQL with Jobs:Store=postgres) and
/// the library and search services, over the vector index AddIrisCore registers (Library:Index). Needs <see cref="JobServices.AddIrisJobs"/>
/// (the server, the worker) or <see cref="AddIrisLibraryStandalone"/> (the CLI, which indexes in-process).
/// </summary>
public static class LibraryServices
{
    public static IServiceCollection AddIrisLibrary(this IServiceCollection services, IrisOptions options)
    {
        services.AddSingleton<ILibraryStore>(sp => options.Jobs.Store.ToLowerInvariant() switch
        {
            "postgres" => new PostgresLibraryStore(options.Jobs.Postgres.ConnectionString),
            _ => new SqliteLibraryStore(sp.GetRequiredService<SqliteJobDatabase>()),
        });
        services.AddSingleton(options.Library.Settings());
        services.AddSingleton(sp => new LibraryPeople(
            (IPeopleStore)sp.GetRequiredService<ILibraryStore>(), options.Library.People.Settings(), sp.GetService<TimeProvider>()));
        services.AddSingleton(sp => new ImageLibrary(
            sp.GetRequiredService<ILibraryStore>(), sp.GetRequiredService<IBlobStore>(), sp.GetRequiredService<IVectorIndex>(),
            sp.GetRequiredService<ImageAnalyzer>(), sp.GetRequiredService<EmbedTask>(), sp.GetRequiredService<ModelCatalog>(),
            sp.GetRequiredService<LibrarySettings>(), sp.GetService<Iris.Core.Jobs.JobService>(),
            sp.GetService<TimeProvider>(), sp.GetService<ILogger<ImageLibrary>>(),
            sp.GetRequiredService<Iris.Core.Tasks.Faces.FaceEmbedTask>(), sp.GetRequiredService<LibraryPeople>()));
        services.AddSingleton(sp => new LibrarySearch(
            sp.GetRequiredService<ImageLibrary>(), sp.GetRequiredService<ImageAnalyzer>(), sp.GetRequiredService<EmbedTask>(), sp.GetRequiredService<ModelCatalog>(),
            sp.GetRequiredService<LibraryPeople>()));
        return services;
    }

    /// <summary>The library without the job machinery (the CLI): the job database file is still where its metadata lives.</summary>
    public static IServiceCollection AddIrisLibraryStandalone(this IServiceCollection services, IrisOptions options)
    {
        services.AddSingleton(_ => new SqliteJobDatabase(options.Jobs.Database));
        return services.AddIrisLibrary(options);
    }
}
