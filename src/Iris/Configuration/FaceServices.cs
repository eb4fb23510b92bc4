using Iris.Core.Faces.Recognition;
using Iris.Core.Jobs.Sqlite;

namespace Iris.Configuration;

/// <summary>
/// Registers face recognition's registry of known people: in the job database like the library (SQLite, or PostgreSQL
/// with Jobs:Store=postgres). Needs the job database (<see cref="JobServices.AddIrisJobs"/> registers SQLite's).
/// </summary>
public static class FaceServices
{
    public static IServiceCollection AddIrisKnownPeople(this IServiceCollection services, IrisOptions options)
    {
        services.AddSingleton<IKnownPeopleStore>(sp => options.Jobs.Store.ToLowerInvariant() switch
        {
            "postgres" => new PostgresKnownPeopleStore(options.Jobs.Postgres.ConnectionString, sp.GetService<TimeProvider>()),
            _ => new SqliteKnownPeopleStore(sp.GetRequiredService<SqliteJobDatabase>(), sp.GetService<TimeProvider>()),
        });
        services.AddSingleton(sp => new KnownPeople(
            sp.GetRequiredService<IKnownPeopleStore>(), sp.GetRequiredService<FaceEmbedder>(), options.Faces.RecognitionThreshold));
        return services;
    }
}
