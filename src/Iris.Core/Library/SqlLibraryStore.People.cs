using System.Data.Common;
using System.Globalization;
using System.Runtime.InteropServices;
using Iris.Core.Detection;
using Iris.Core.Library.People;

namespace Iris.Core.Library;

/// <summary>The faces and people of the library (<see cref="IPeopleStore"/>), in the same database and dialect-neutral SQL.</summary>
public abstract partial class SqlLibraryStore
{
    private const string FaceColumns = "f.id, f.image_id, f.owner, f.idx, f.x_min, f.y_min, f.x_max, f.y_max, f.confidence, f.descriptor, f.person_id, f.source";
    private const string PersonColumns = "p.id, p.owner, p.name, p.cover_face, p.created_at, p.updated_at";

    /// <summary>The faces, people and rejections tables in the dialect's names for a double, a byte string and a 64-bit integer.</summary>
    protected static string PeopleSchema(string real, string blob, string integer) =>
        $"""

        CREATE TABLE IF NOT EXISTS library_faces (
            id         TEXT PRIMARY KEY,
            image_id   TEXT NOT NULL,
            owner      TEXT NOT NULL,
            idx        {integer} NOT NULL,
            x_min      {real} NOT NULL,
            y_min      {real} NOT NULL,
            x_max      {real} NOT NULL,
            y_max      {real} NOT NULL,
            confidence {real} NOT NULL,
            descriptor {blob} NOT NULL,
            person_id  TEXT,
            source     TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS library_faces_image ON library_faces (image_id);
        CREATE INDEX IF NOT EXISTS library_faces_person ON library_faces (person_id);
        CREATE INDEX IF NOT EXISTS library_faces_owner ON library_faces (owner);
        CREATE TABLE IF NOT EXISTS library_people (
            id         TEXT PRIMARY KEY,
            owner      TEXT NOT NULL,
            name       TEXT,
            cover_face TEXT,
            created_at {integer} NOT NULL,
            updated_at {integer} NOT NULL
        );
        CREATE INDEX IF NOT EXISTS library_people_owner ON library_people (owner);
        CREATE TABLE IF NOT EXISTS library_face_rejections (face_id TEXT NOT NULL, person_id TEXT NOT NULL, owner TEXT NOT NULL, PRIMARY KEY (face_id, person_id));
        """;

    public async Task SaveFacesAsync(string imageId, string owner, IReadOnlyList<LibraryFace> faces, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var delete = Command(connection, "DELETE FROM library_faces WHERE image_id = @image AND idx >= @count", ("image", imageId), ("count", (long)faces.Count)))
        {
            delete.Transaction = transaction;
            await delete.ExecuteNonQueryAsync(cancellationToken);
        }
        foreach (var face in faces)
        {
            // The same face found again keeps its person and source: re-indexing never undoes what users or clustering decided.
            await using var upsert = Command(connection,
                "INSERT INTO library_faces (id, image_id, owner, idx, x_min, y_min, x_max, y_max, confidence, descriptor, person_id, source) " +
                "VALUES (@id, @image, @owner, @idx, @x1, @y1, @x2, @y2, @confidence, @descriptor, NULL, 'auto') ON CONFLICT (id) DO UPDATE SET " +
                "owner = excluded.owner, x_min = excluded.x_min, y_min = excluded.y_min, x_max = excluded.x_max, y_max = excluded.y_max, " +
                "confidence = excluded.confidence, descriptor = excluded.descriptor",
                ("id", face.Id), ("image", imageId), ("owner", owner), ("idx", (long)face.Index), ("x1", (double)face.Box.XMin), ("y1", (double)face.Box.YMin),
                ("x2", (double)face.Box.XMax), ("y2", (double)face.Box.YMax), ("confidence", (double)face.Confidence),
                ("descriptor", MemoryMarshal.AsBytes(face.Descriptor.AsSpan()).ToArray()));
            upsert.Transaction = transaction;
            await upsert.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    public Task<IReadOnlyList<LibraryFace>> FacesAsync(string owner, CancellationToken cancellationToken) =>
        QueryFacesAsync($"SELECT {FaceColumns} FROM library_faces f WHERE f.owner = @owner ORDER BY f.id", cancellationToken, ("owner", owner));

    public Task<IReadOnlyList<LibraryFace>> FacesOfAsync(IReadOnlyCollection<string>? imageIds, string? personId, CancellationToken cancellationToken)
    {
        var where = new List<string>();
        var parameters = new List<(string, object?)>();
        if (imageIds is not null)
        {
            if (imageIds.Count == 0) return Task.FromResult<IReadOnlyList<LibraryFace>>([]);
            where.Add($"f.image_id IN ({string.Join(",", imageIds.Select((_, i) => "@i" + i.ToString(CultureInfo.InvariantCulture)))})");
            parameters.AddRange(imageIds.Select((id, i) => ("i" + i.ToString(CultureInfo.InvariantCulture), (object?)id)));
        }
        if (personId is not null) { where.Add("f.person_id = @person"); parameters.Add(("person", personId)); }
        return QueryFacesAsync($"SELECT {FaceColumns} FROM library_faces f {(where.Count > 0 ? "WHERE " + string.Join(" AND ", where) : "")} ORDER BY f.id",
            cancellationToken, [.. parameters]);
    }

    private async Task<IReadOnlyList<LibraryFace>> QueryFacesAsync(string sql, CancellationToken cancellationToken, params (string, object?)[] parameters)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, sql, parameters);
        var faces = new List<LibraryFace>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            faces.Add(new LibraryFace
            {
                Id = reader.GetString(0), ImageId = reader.GetString(1), Owner = reader.GetString(2), Index = (int)reader.GetInt64(3),
                Box = new BoundingBox((float)reader.GetDouble(4), (float)reader.GetDouble(5), (float)reader.GetDouble(6), (float)reader.GetDouble(7)),
                Confidence = (float)reader.GetDouble(8),
                Descriptor = MemoryMarshal.Cast<byte, float>((byte[])reader.GetValue(9)).ToArray(),
                PersonId = reader.IsDBNull(10) ? null : reader.GetString(10),
                Source = reader.GetString(11) == "user" ? FaceSource.User : FaceSource.Auto,
            });
        return faces;
    }

    public async Task<IReadOnlyList<Person>> PeopleAsync(string owner, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, $"SELECT {PersonColumns} FROM library_people p WHERE p.owner = @owner ORDER BY p.id", ("owner", owner));
        var people = new List<Person>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) people.Add(ReadPerson(reader));
        return people;
    }

    public async Task<Person?> GetPersonAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, $"SELECT {PersonColumns} FROM library_people p WHERE p.id = @id", ("id", id));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadPerson(reader) : null;
    }

    private static Person ReadPerson(DbDataReader reader) => new()
    {
        Id = reader.GetString(0), Owner = reader.GetString(1), Name = reader.IsDBNull(2) ? null : reader.GetString(2),
        CoverFaceId = reader.IsDBNull(3) ? null : reader.GetString(3),
        CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)), UpdatedAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)),
    };

    public async Task<IReadOnlyList<PersonSummary>> SummariesAsync(string owner, string? personId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection,
            $"SELECT {PersonColumns}, " +
            "(SELECT count(*) FROM library_faces f WHERE f.person_id = p.id) AS faces, " +
            "(SELECT count(DISTINCT f.image_id) FROM library_faces f WHERE f.person_id = p.id) AS images, " +
            "c.id, c.image_id, c.idx, c.x_min, c.y_min, c.x_max, c.y_max, c.confidence " +
            "FROM library_people p LEFT JOIN library_faces c ON c.id = p.cover_face " +
            $"WHERE p.owner = @owner {(personId is null ? "" : "AND p.id = @id")} " +
            "ORDER BY CASE WHEN p.name IS NULL THEN 1 ELSE 0 END, faces DESC, p.name, p.id",
            personId is null ? [("owner", owner)] : [("owner", owner), ("id", personId)]);
        var people = new List<PersonSummary>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var person = ReadPerson(reader);
            LibraryFace? cover = reader.IsDBNull(8) ? null : new LibraryFace
            {
                Id = reader.GetString(8), ImageId = reader.GetString(9), Owner = person.Owner, Index = (int)reader.GetInt64(10),
                Box = new BoundingBox((float)reader.GetDouble(11), (float)reader.GetDouble(12), (float)reader.GetDouble(13), (float)reader.GetDouble(14)),
                Confidence = (float)reader.GetDouble(15), Descriptor = [], PersonId = person.Id,
            };
            people.Add(new PersonSummary(person, Convert.ToInt32(reader.GetValue(6), CultureInfo.InvariantCulture),
                Convert.ToInt32(reader.GetValue(7), CultureInfo.InvariantCulture), cover));
        }
        return people;
    }

    public async Task<IReadOnlySet<(string FaceId, string PersonId)>> RejectionsAsync(string owner, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, "SELECT face_id, person_id FROM library_face_rejections WHERE owner = @owner", ("owner", owner));
        var pairs = new HashSet<(string, string)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) pairs.Add((reader.GetString(0), reader.GetString(1)));
        return pairs;
    }

    public async Task ApplyAsync(PeopleChange change, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        async Task Run(string sql, params (string, object?)[] parameters)
        {
            await using var command = Command(connection, sql, parameters);
            command.Transaction = transaction;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        foreach (var person in change.Upserts)
            await Run("INSERT INTO library_people (id, owner, name, cover_face, created_at, updated_at) VALUES (@id, @owner, @name, @cover, @created, @updated) " +
                      "ON CONFLICT (id) DO UPDATE SET name = excluded.name, cover_face = excluded.cover_face, updated_at = excluded.updated_at",
                ("id", person.Id), ("owner", person.Owner), ("name", person.Name), ("cover", person.CoverFaceId),
                ("created", person.CreatedAt.ToUnixTimeMilliseconds()), ("updated", person.UpdatedAt.ToUnixTimeMilliseconds()));
        foreach (var assignment in change.Assignments)
            await Run(assignment.Source == FaceSource.User
                    ? "UPDATE library_faces SET person_id = @person, source = 'user' WHERE id = @id"
                    // Clustering worked from a snapshot: a face a user placed since then stays where the user put it.
                    : "UPDATE library_faces SET person_id = @person, source = 'auto' WHERE id = @id AND source = 'auto'",
                ("person", assignment.PersonId), ("id", assignment.FaceId));
        foreach (var (face, person) in change.Rejections)
            await Run("INSERT INTO library_face_rejections (face_id, person_id, owner) SELECT id, @person, owner FROM library_faces WHERE id = @face " +
                      "ON CONFLICT (face_id, person_id) DO NOTHING", ("person", person), ("face", face));
        foreach (var person in change.Removals)
        {
            await Run("UPDATE library_faces SET person_id = NULL, source = 'auto' WHERE person_id = @id", ("id", person));
            await Run("DELETE FROM library_face_rejections WHERE person_id = @id", ("id", person));
            await Run("DELETE FROM library_people WHERE id = @id", ("id", person));
        }
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<string>> ImagesOfAsync(string personId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection,
            "SELECT i.id FROM library_images i WHERE i.id IN (SELECT image_id FROM library_faces WHERE person_id = @person) ORDER BY i.seq DESC", ("person", personId));
        var ids = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) ids.Add(reader.GetString(0));
        return ids;
    }
}
