using Iris.Core.Jobs;
using Iris.Core.Jobs.Postgres;
using Iris.Core.Jobs.RabbitMq;
using Iris.Core.Jobs.Redis;
using Iris.Core.Jobs.Sqlite;
using Iris.Tests.Support;

namespace Iris.Tests.Jobs;

/// <summary>How each store and queue of a combination is created, on the real servers scripts/test.sh starts.</summary>
internal static class Backends
{
    /// <summary>A store on a fresh database, how to open another client of it on a given clock, and how to drop it.</summary>
    public static async Task<(IJobStore Store, Func<TimeProvider, IJobStore> Open, Func<Task> Drop)> StoreAsync(string kind, TempDirectory scratch)
    {
        if (kind == "sqlite")
        {
            var path = scratch.File("jobs.db");
            return (new SqliteJobStore(new SqliteJobDatabase(path)), clock => new SqliteJobStore(new SqliteJobDatabase(path), clock), () => Task.CompletedTask);
        }
        var database = await TestServices.CreateDatabaseAsync();
        return (new PostgresJobStore(database), clock => new PostgresJobStore(database, clock), () => TestServices.DropDatabaseAsync(database));
    }

    public static Func<Task<IJobQueue>> Queue(string kind, TimeSpan lease)
    {
        var name = "iris-test-" + Guid.NewGuid().ToString("N")[..12];
        return kind switch
        {
            "redis" => async () =>
            {
                var queue = new RedisStreamsJobQueue(TestServices.Redis, name, "workers", lease, TimeSpan.FromMilliseconds(50));
                await queue.InitializeAsync(CancellationToken.None);
                return queue;
            },
            "rabbitmq" => async () =>
            {
                var queue = new RabbitMqJobQueue(TestServices.RabbitMq, name, 4);
                await queue.InitializeAsync(CancellationToken.None);
                return queue;
            },
            _ => throw new ArgumentException(kind),
        };
    }

    public sealed class Backend(IJobStore store, IJobQueue queue, Func<Task<IJobQueue>> another, Func<TimeProvider, IJobStore> openStore, Func<Task> drop) : IJobBackend
    {
        private readonly List<IJobQueue> _others = [];
        public IJobStore Store => store;
        public IJobQueue Queue => queue;

        public IJobStore OpenStore(TimeProvider clock) => openStore(clock);

        public async Task<IJobQueue> OpenAnotherQueueAsync()
        {
            var other = await another();
            _others.Add(other);
            return other;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var other in _others) await other.DisposeAsync();
            await queue.DisposeAsync();
            await store.DisposeAsync();
            await drop();
        }
    }

    public static async Task<IJobBackend> CreateAsync(string store, string queue, TempDirectory scratch, TimeSpan lease)
    {
        var (jobStore, openStore, drop) = await StoreAsync(store, scratch);
        var open = Queue(queue, lease);
        return new Backend(jobStore, await open(), open, openStore, drop);
    }
}

public sealed class SqliteRedisJobLifecycleTests : JobLifecycleContract
{
    protected override Task<IJobBackend> CreateBackendAsync(TempDirectory scratch) => Backends.CreateAsync("sqlite", "redis", scratch, Settings.Lease);
}

public sealed class PostgresRedisJobLifecycleTests : JobLifecycleContract
{
    protected override Task<IJobBackend> CreateBackendAsync(TempDirectory scratch) => Backends.CreateAsync("postgres", "redis", scratch, Settings.Lease);
}

public sealed class SqliteRabbitMqJobLifecycleTests : JobLifecycleContract
{
    protected override Task<IJobBackend> CreateBackendAsync(TempDirectory scratch) => Backends.CreateAsync("sqlite", "rabbitmq", scratch, Settings.Lease);
}

public sealed class PostgresRabbitMqJobLifecycleTests : JobLifecycleContract
{
    protected override Task<IJobBackend> CreateBackendAsync(TempDirectory scratch) => Backends.CreateAsync("postgres", "rabbitmq", scratch, Settings.Lease);
}
