using System.Data.Common;
using Iris.Core.Jobs.Sqlite;
using Microsoft.Data.Sqlite;

namespace Iris.Core.Faces.Recognition;

/// <summary>The known-people registry in the SQLite job database (the default).</summary>
public sealed class SqliteKnownPeopleStore(SqliteJobDatabase database, TimeProvider? clock = null) : SqlKnownPeopleStore(clock)
{
    public override async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var create = Command(connection, """
            CREATE TABLE IF NOT EXISTS known_people (
                id         TEXT    PRIMARY KEY,
                owner      TEXT    NOT NULL,
                name       TEXT    NOT NULL,
                created_at INTEGER NOT NULL,
                UNIQUE (owner, name)
            );
            CREATE TABLE IF NOT EXISTS known_faces (
                id         INTEGER PRIMARY KEY,
                person_id  TEXT    NOT NULL REFERENCES known_people (id),
                model      TEXT    NOT NULL,
                descriptor BLOB    NOT NULL,
                created_at INTEGER NOT NULL
            );
            CREATE INDEX IF NOT EXISTS known_faces_person ON known_faces (person_id);
            CREATE INDEX IF NOT EXISTS known_faces_model ON known_faces (model);
            """);
        await create.ExecuteNonQueryAsync(cancellationToken);
    }

    protected override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken) => await database.OpenAsync(cancellationToken);

    // SQLITE_CONSTRAINT (19) with the UNIQUE extended code.
    protected override bool IsUniqueViolation(DbException exception) =>
        exception is SqliteException { SqliteErrorCode: 19, SqliteExtendedErrorCode: 2067 };
}
