using Iris.Core.Jobs;
using Iris.Core.Jobs.Kafka;
using Iris.Core.Jobs.Postgres;
using Iris.Core.Jobs.RabbitMq;
using Iris.Core.Jobs.Redis;
using Iris.Core.Jobs.Sqlite;
using Iris.Hosting;
using Iris.Jobs;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Iris.Configuration;

/// <summary>Registers the job store, queue, input blobs, processor and worker chosen by the <c>Jobs</c> options.</summary>
public static class JobServices
{
    public static IServiceCollection AddIrisJobs(this IServiceCollection services, IrisOptions options)
    {
        var jobs = options.Jobs;
        var settings = jobs.Settings();
        services.AddSingleton(settings);

        // What a job computes: the /v1/analyze pipeline, so a job result is what that route would answer; or a transform.
        services.AddSingleton<AnalyzeJobProcessor>();
        services.AddSingleton<TransformJobProcessor>();
        // Library indexing jobs; the library itself (AddIrisLibrary) is resolved by the first such job.
        services.AddSingleton<IndexJobProcessor>();
        services.AddSingleton<IJobProcessor, JobProcessorRouter>();

        // Every job clock reads this one, so a test host can replace it with a fake.
        services.TryAddSingleton(TimeProvider.System);
        services.AddIrisJobInputStore(options);
        services.AddSingleton(_ => new SqliteJobDatabase(jobs.Database));
        // One store object holds the jobs, their webhook outbox and what retention deletes; each consumer sees only its part.
        services.AddSingleton<SqlJobStore>(sp => jobs.Store.ToLowerInvariant() switch
        {
            "sqlite" => new SqliteJobStore(sp.GetRequiredService<SqliteJobDatabase>(), sp.GetRequiredService<TimeProvider>()),
            "postgres" => new PostgresJobStore(jobs.Postgres.ConnectionString, sp.GetRequiredService<TimeProvider>()),
            var other => throw new InvalidConfigurationException([$"Jobs:Store '{other}' is not available in this build."]),
        });
        services.AddSingleton<IJobStore>(sp => sp.GetRequiredService<SqlJobStore>());
        services.AddSingleton<IWebhookOutbox>(sp => sp.GetRequiredService<SqlJobStore>());
        services.AddSingleton<IJobRetentionStore>(sp => sp.GetRequiredService<SqlJobStore>());
        services.AddSingleton<IJobQueue>(sp => jobs.Queue.ToLowerInvariant() switch
        {
            "embedded" => new SqliteJobQueue(sp.GetRequiredService<SqliteJobDatabase>(), settings.Lease, TimeSpan.FromMilliseconds(jobs.PollIntervalMs), sp.GetRequiredService<TimeProvider>()),
            "redis" => new RedisStreamsJobQueue(jobs.Redis.ConnectionString, jobs.Redis.Stream, jobs.Redis.Group, settings.Lease, TimeSpan.FromMilliseconds(jobs.PollIntervalMs), sp.GetRequiredService<TimeProvider>()),
            "rabbitmq" => new RabbitMqJobQueue(jobs.RabbitMq.Uri, jobs.RabbitMq.Queue, (ushort)jobs.RabbitMq.Prefetch),
            "kafka" => new KafkaJobQueue(jobs.Kafka.BootstrapServers, jobs.Kafka.RequestTopic, jobs.Kafka.ResponseTopic, jobs.Kafka.GroupId,
                sp.GetRequiredService<IJobStore>(), sp.GetRequiredService<ILogger<KafkaJobQueue>>(), sp.GetRequiredService<TimeProvider>()),
            var other => throw new InvalidConfigurationException([$"Jobs:Queue '{other}' is not available in this build."]),
        });
        services.AddSingleton<JobService>();
        if (jobs.Queue.Equals("kafka", StringComparison.OrdinalIgnoreCase))
            services.AddSingleton(sp => new KafkaRequestIntake(jobs.Kafka.BootstrapServers, jobs.Kafka.RequestTopic, jobs.Kafka.ResponseTopic,
                jobs.Kafka.GroupId, sp.GetRequiredService<JobService>(), jobs.DefaultTasks, sp.GetRequiredService<ILogger<KafkaRequestIntake>>(),
                sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new JobWebhookSender(sp.GetRequiredService<IHttpClientFactory>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new JobWebhookDispatcher(sp.GetRequiredService<IWebhookOutbox>(), sp.GetRequiredService<IJobStore>(), sp.GetRequiredService<JobWebhookSender>(),
            settings, TimeSpan.FromMilliseconds(jobs.PollIntervalMs), sp.GetRequiredService<ILogger<JobWebhookDispatcher>>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new JobWorker(
            sp.GetRequiredService<IJobStore>(), sp.GetRequiredService<IJobQueue>(), sp.GetRequiredService<IJobBlobStore>(),
            sp.GetRequiredService<IJobProcessor>(), settings, sp.GetRequiredService<JobWebhookDispatcher>().OnFinishedAsync,
            sp.GetRequiredService<ILogger<JobWorker>>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new JobRecovery(sp.GetRequiredService<IJobStore>(), sp.GetRequiredService<IJobQueue>(),
            TimeSpan.FromSeconds(jobs.RecoverAfterSeconds), sp.GetRequiredService<ILogger<JobRecovery>>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new JobRetention(sp.GetRequiredService<IJobRetentionStore>(), sp.GetRequiredService<IJobBlobStore>(),
            settings.Retention, logger: sp.GetRequiredService<ILogger<JobRetention>>(), clock: sp.GetRequiredService<TimeProvider>()));
        // Registered before the worker: hosted services start in order, and the schema must exist before work begins.
        services.AddHostedService<JobInfrastructureStartup>();
        return services;
    }

    /// <summary>Adds the background workers (<paramref name="concurrency"/> jobs at once; 0 adds none).</summary>
    public static IServiceCollection AddIrisJobWorkers(this IServiceCollection services, int concurrency)
    {
        if (concurrency > 0)
        {
            // Webhooks and retention run where workers run: an API-only node only records jobs. The dispatcher comes
            // before the worker because hosted services stop in reverse order: webhooks of jobs that finish during the
            // worker's shutdown grace are still sent.
            services.AddHostedService(sp => new JobWebhookDispatcherService(sp.GetRequiredService<JobWebhookDispatcher>()));
            services.AddHostedService(sp => new JobWorkerService(sp.GetRequiredService<JobWorker>(), concurrency));
            // Kafka clients' requests are taken in where workers run, as they always were: an API-only node stays out
            // of the request topic's consumer groups.
            if (services.Any(d => d.ServiceType == typeof(KafkaRequestIntake)))
                services.AddHostedService(sp => new KafkaRequestIntakeService(sp.GetRequiredService<KafkaRequestIntake>()));
            services.AddHostedService(sp => new JobRecoveryService(sp.GetRequiredService<JobRecovery>(),
                TimeSpan.FromSeconds(Math.Max(1, sp.GetRequiredService<IrisOptions>().Jobs.RecoverAfterSeconds / 5)),
                sp.GetRequiredService<ILogger<JobRecoveryService>>()));
            services.AddHostedService(sp => new JobRetentionService(sp.GetRequiredService<JobRetention>(),
                sp.GetRequiredService<JobSettings>().RetentionSweepInterval, sp.GetRequiredService<ILogger<JobRetentionService>>()));
        }
        return services;
    }
}
