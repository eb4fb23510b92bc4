using System.Data.Common;

namespace Iris.Core.Jobs.Sqlite;

/// <summary>The default job store: one SQLite file (WAL), shared with the embedded queue.</summary>
public sealed class SqliteJobStore(SqliteJobDatabase database, TimeProvider? clock = null) : SqlJobStore(clock)
{
    public override Task InitializeAsync(CancellationToken cancellationToken) => database.EnsureMigratedAsync(cancellationToken);

    protected override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken) => await database.OpenAsync(cancellationToken);
}
