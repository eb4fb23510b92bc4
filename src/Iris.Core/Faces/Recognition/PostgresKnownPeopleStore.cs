using System.Data.Common;
using Npgsql;

namespace Iris.Core.Faces.Recognition;

/// <summary>The known-people registry in the PostgreSQL job database (Jobs:Store=postgres).</summary>
public sealed class PostgresKnownPeopleStore(string connectionString, TimeProvider? clock = null) : SqlKnownPeopleStore(clock), IAsyncDisposable
{
    /// <summary>Serialises schema creation across nodes starting together (CREATE … IF NOT EXISTS alone races in PostgreSQL).</summary>
    private const long SchemaLock = 0x1815_0014;

    private readonly NpgsqlDataSource _dataSource = NpgsqlDataSource.Create(connectionString);

    public override async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var create = new NpgsqlCommand($"""
            SELECT pg_advisory_xact_lock({SchemaLock});
            CREATE TABLE IF NOT EXISTS known_people (
                id         TEXT   PRIMARY KEY,
                owner      TEXT   NOT NULL,
                name       TEXT   NOT NULL,
                created_at BIGINT NOT NULL,
                UNIQUE (owner, name)
            );
            CREATE TABLE IF NOT EXISTS known_faces (
                id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                person_id  TEXT   NOT NULL REFERENCES known_people (id),
                model      TEXT   NOT NULL,
                descriptor BYTEA  NOT NULL,
                created_at BIGINT NOT NULL
            );
            CREATE INDEX IF NOT EXISTS known_faces_person ON known_faces (person_id);
            CREATE INDEX IF NOT EXISTS known_faces_model ON known_faces (model);
            """, connection, transaction);
        await create.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    protected override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken) => await _dataSource.OpenConnectionAsync(cancellationToken);

    protected override bool IsUniqueViolation(DbException exception) => exception is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
