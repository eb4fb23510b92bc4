using Iris.Core.Jobs.Sqlite;
using Iris.Core.Predictions;
using Iris.Core.Storage;
using Iris.Hosting;

namespace Iris.Configuration;

/// <summary>
/// Registers the prediction history (seed 004's <c>predictions</c>): its store in the job database (Jobs:Store) and its
/// image archive where the image store is (Storage:Provider).
/// </summary>
public static class PredictionServices
{
    public static IServiceCollection AddIrisPredictions(this IServiceCollection services, IrisOptions options)
    {
        services.AddSingleton<IPredictionStore>(sp => options.Jobs.Store.ToLowerInvariant() switch
        {
            "sqlite" => new SqlitePredictionStore(sp.GetRequiredService<SqliteJobDatabase>(), sp.GetRequiredService<TimeProvider>()),
            "postgres" => new PostgresPredictionStore(options.Jobs.Postgres.ConnectionString, sp.GetRequiredService<TimeProvider>()),
            var other => throw new InvalidConfigurationException([$"Jobs:Store '{other}' is not available in this build."]),
        });
        services.AddSingleton<IPredictionArchive>(sp => options.Storage.UsesS3()
            ? new S3PredictionArchive(sp.GetRequiredService<S3ObjectStore>())
            : new LocalDiskPredictionArchive(options.Storage.Directory));
        services.AddSingleton(sp => new PredictionHistory(sp.GetRequiredService<IPredictionStore>(), sp.GetRequiredService<IPredictionArchive>(),
            TimeSpan.FromMilliseconds(options.Jobs.PollIntervalMs), sp.GetRequiredService<ILogger<PredictionHistory>>(), sp.GetRequiredService<TimeProvider>()));
        services.AddHostedService<PredictionStoreStartup>();
        return services;
    }
}
