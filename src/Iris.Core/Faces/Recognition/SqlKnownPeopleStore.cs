using System.Data.Common;
using System.Runtime.InteropServices;

namespace Iris.Core.Faces.Recognition;

/// <summary>
/// The known-people registry in the SQL SQLite and PostgreSQL both speak: <c>known_people</c> (id as text, the owner
/// ("" without access control, as the library's people), a name unique per owner, creation time in Unix milliseconds) and <c>known_faces</c> (the person's descriptors as little-endian float32 bytes,
/// tagged with the model that made them). The subclasses differ in schema types, connections and how a unique-key
/// violation reads.
/// </summary>
public abstract class SqlKnownPeopleStore(TimeProvider? clock) : IKnownPeopleStore
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private const string PersonColumns = "p.id, p.name, p.created_at, (SELECT count(*) FROM known_faces f WHERE f.person_id = p.id)";

    public abstract Task InitializeAsync(CancellationToken cancellationToken);

    protected abstract Task<DbConnection> OpenAsync(CancellationToken cancellationToken);

    protected abstract bool IsUniqueViolation(DbException exception);

    public async Task<KnownPerson> AddFacesAsync(string owner, string name, string model, IReadOnlyList<float[]> descriptors, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // ON CONFLICT: two registrations of a new name at once make one person, not a unique-key error.
        await Execute(connection, transaction, "INSERT INTO known_people (id, owner, name, created_at) VALUES (@id, @owner, @name, @now) ON CONFLICT (owner, name) DO NOTHING",
            cancellationToken, ("id", Guid.NewGuid().ToString("D")), ("owner", owner), ("name", name), ("now", Now()));
        string id;
        await using (var find = Command(connection, "SELECT id FROM known_people WHERE owner = @owner AND name = @name", ("owner", owner), ("name", name)))
        {
            find.Transaction = transaction;
            id = (string)(await find.ExecuteScalarAsync(cancellationToken))!;
        }
        await InsertFacesAsync(connection, transaction, id, model, descriptors, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (await GetAsync(owner, Guid.Parse(id), cancellationToken))!;
    }

    public async Task<KnownPerson> CreateAsync(string owner, string name, string model, IReadOnlyList<float[]> descriptors, CancellationToken cancellationToken)
    {
        var id = Guid.NewGuid();
        await using (var connection = await OpenAsync(cancellationToken))
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            try
            {
                await Execute(connection, transaction, "INSERT INTO known_people (id, owner, name, created_at) VALUES (@id, @owner, @name, @now)",
                    cancellationToken, ("id", id.ToString("D")), ("owner", owner), ("name", name), ("now", Now()));
            }
            catch (DbException e) when (IsUniqueViolation(e))
            {
                throw new PersonNameTakenException(name);
            }
            await InsertFacesAsync(connection, transaction, id.ToString("D"), model, descriptors, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        return (await GetAsync(owner, id, cancellationToken))!;
    }

    public async Task<IReadOnlyList<KnownPerson>> ListAsync(string owner, CancellationToken cancellationToken) =>
        await QueryPeopleAsync($"SELECT {PersonColumns} FROM known_people p WHERE p.owner = @owner ORDER BY p.name, p.id", cancellationToken, ("owner", owner));

    public async Task<KnownPerson?> GetAsync(string owner, Guid id, CancellationToken cancellationToken) =>
        (await QueryPeopleAsync($"SELECT {PersonColumns} FROM known_people p WHERE p.owner = @owner AND p.id = @id", cancellationToken,
            ("owner", owner), ("id", id.ToString("D")))).SingleOrDefault();

    public async Task<KnownPerson?> FindAsync(string owner, string name, CancellationToken cancellationToken) =>
        (await QueryPeopleAsync($"SELECT {PersonColumns} FROM known_people p WHERE p.owner = @owner AND p.name = @name", cancellationToken,
            ("owner", owner), ("name", name))).SingleOrDefault();

    public async Task<bool> RenameAsync(string owner, Guid id, string name, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var update = Command(connection, "UPDATE known_people SET name = @name WHERE owner = @owner AND id = @id",
            ("owner", owner), ("id", id.ToString("D")), ("name", name));
        try
        {
            return await update.ExecuteNonQueryAsync(cancellationToken) > 0;
        }
        catch (DbException e) when (IsUniqueViolation(e))
        {
            throw new PersonNameTakenException(name);
        }
    }

    public async Task<bool> DeleteAsync(string owner, Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await Execute(connection, transaction, "DELETE FROM known_faces WHERE person_id IN (SELECT id FROM known_people WHERE owner = @owner AND id = @id)",
            cancellationToken, ("owner", owner), ("id", id.ToString("D")));
        var deleted = await Execute(connection, transaction, "DELETE FROM known_people WHERE owner = @owner AND id = @id", cancellationToken,
            ("owner", owner), ("id", id.ToString("D")));
        await transaction.CommitAsync(cancellationToken);
        return deleted > 0;
    }

    public async Task<IReadOnlyList<KnownFace>> FacesAsync(string owner, string model, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var query = Command(connection, """
            SELECT p.id, p.name, f.descriptor FROM known_faces f JOIN known_people p ON p.id = f.person_id
            WHERE p.owner = @owner AND f.model = @model ORDER BY p.id, f.id
            """, ("owner", owner), ("model", model));
        var faces = new List<KnownFace>();
        await using var reader = await query.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            faces.Add(new KnownFace(Guid.Parse(reader.GetString(0)), reader.GetString(1), model,
                MemoryMarshal.Cast<byte, float>((byte[])reader.GetValue(2)).ToArray()));
        return faces;
    }

    private async Task InsertFacesAsync(DbConnection connection, DbTransaction transaction, string personId, string model,
        IReadOnlyList<float[]> descriptors, CancellationToken cancellationToken)
    {
        foreach (var descriptor in descriptors)
            await Execute(connection, transaction,
                "INSERT INTO known_faces (person_id, model, descriptor, created_at) VALUES (@person, @model, @descriptor, @now)", cancellationToken,
                ("person", personId), ("model", model), ("descriptor", MemoryMarshal.AsBytes(descriptor.AsSpan()).ToArray()), ("now", Now()));
    }

    private async Task<List<KnownPerson>> QueryPeopleAsync(string sql, CancellationToken cancellationToken, params (string, object?)[] parameters)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var query = Command(connection, sql, parameters);
        var people = new List<KnownPerson>();
        await using var reader = await query.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            people.Add(new KnownPerson(Guid.Parse(reader.GetString(0)), reader.GetString(1), Convert.ToInt32(reader.GetValue(3)),
                DateTimeOffset.FromUnixTimeMilliseconds(Convert.ToInt64(reader.GetValue(2)))));
        return people;
    }

    private static async Task<int> Execute(DbConnection connection, DbTransaction transaction, string sql, CancellationToken cancellationToken,
        params (string, object?)[] parameters)
    {
        await using var command = Command(connection, sql, parameters);
        command.Transaction = transaction;
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private long Now() => _clock.GetUtcNow().ToUnixTimeMilliseconds();

    protected static DbCommand Command(DbConnection connection, string sql, params (string Name, object? Value)[] parameters) =>
        Jobs.SqlJobStore.Command(connection, sql, parameters);
}
