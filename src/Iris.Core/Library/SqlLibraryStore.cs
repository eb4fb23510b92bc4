using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Iris.Core.Library.People;
using Iris.Core.Library.Vectors;

namespace Iris.Core.Library;

/// <summary>
/// The statements SQLite and PostgreSQL share (the same columns, times as Unix milliseconds, lists as JSON); the two
/// subclasses differ in their schema and their full-text index: FTS5 with the Porter stemmer in SQLite, a stored
/// English <c>tsvector</c> in PostgreSQL. Filters are written into the SQL, so a filtered text search still fills its page.
/// </summary>
public abstract partial class SqlLibraryStore : ILibraryStore, IPeopleStore
{
    protected static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private const string Columns =
        "seq, id, owner, collection, tags, external_id, file_name, media_type, bytes, added_at, state, error, job_id, indexed_at, fields, models";

    private volatile bool _ready;

    /// <summary>Creates the library's tables when missing (idempotent; several processes may start together).</summary>
    protected abstract Task CreateSchemaAsync(CancellationToken cancellationToken);

    /// <summary>A new open connection to the database.</summary>
    protected abstract Task<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken);

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await CreateSchemaAsync(cancellationToken);
        _ready = true;
    }

    protected async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        if (!_ready) await InitializeAsync(cancellationToken);
        return await OpenConnectionAsync(cancellationToken);
    }

    /// <summary>Replaces the image's full-text row (indexing) or removes it (<paramref name="fields"/> null).</summary>
    protected abstract Task WriteTextAsync(DbConnection connection, DbTransaction transaction, string id, IndexedFields? fields, IReadOnlyList<string> tags, CancellationToken cancellationToken);

    /// <summary>The full-text query: a SELECT of (id) ranked best first, joined to <c>library_images i</c>, with <paramref name="where"/> applied.</summary>
    protected abstract string TextQuery(string where);

    /// <summary>The dialect's form of "any of these terms" (bound as @query).</summary>
    protected abstract string TextQueryValue(IReadOnlyList<string> terms);

    public abstract ValueTask DisposeAsync();

    public async Task<(LibraryImage Image, bool Created)> AddAsync(LibraryImage image, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection,
            "INSERT INTO library_images (id, owner, collection, tags, external_id, file_name, media_type, bytes, added_at, state) " +
            "VALUES (@id, @owner, @collection, @tags, @external_id, @file_name, @media_type, @bytes, @added_at, @state) ON CONFLICT (id) DO NOTHING",
            ("id", image.Id), ("owner", image.Owner), ("collection", image.Collection), ("tags", JsonSerializer.Serialize(image.Tags, Json)),
            ("external_id", image.ExternalId), ("file_name", image.FileName), ("media_type", image.MediaType), ("bytes", image.Bytes),
            ("added_at", image.AddedAt.ToUnixTimeMilliseconds()), ("state", StateName(IndexState.Queued)));
        var created = await command.ExecuteNonQueryAsync(cancellationToken) == 1;
        var stored = await GetAsync(connection, image.Id, cancellationToken) ?? throw new InvalidOperationException($"Image {image.Id} vanished after insert.");
        return (stored, created);
    }

    public Task SetJobAsync(string id, string jobId, CancellationToken cancellationToken) =>
        ExecuteAsync("UPDATE library_images SET job_id = @job WHERE id = @id", cancellationToken, ("job", jobId), ("id", id));

    public async Task<LibraryImage?> GetAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await GetAsync(connection, id, cancellationToken);
    }

    private static async Task<LibraryImage?> GetAsync(DbConnection connection, string id, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, $"SELECT {Columns} FROM library_images WHERE id = @id", ("id", id));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader).Image : null;
    }

    public async Task<IReadOnlyList<LibraryImage>> GetManyAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken)
    {
        if (ids.Count == 0) return [];
        await using var connection = await OpenAsync(cancellationToken);
        var names = ids.Select((_, i) => "@p" + i.ToString(CultureInfo.InvariantCulture)).ToList();
        await using var command = Command(connection, $"SELECT {Columns} FROM library_images WHERE id IN ({string.Join(",", names)})",
            ids.Select((id, i) => ("p" + i.ToString(CultureInfo.InvariantCulture), (object?)id)).ToArray());
        var images = new List<LibraryImage>(ids.Count);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) images.Add(Read(reader).Image);
        return images;
    }

    public async Task<LibraryPage> ListAsync(LibraryQuery query, CancellationToken cancellationToken)
    {
        var where = new List<string>();
        var parameters = new List<(string, object?)> { ("limit", (long)query.Limit + 1) };
        if (query.Owner is not null) { where.Add("owner = @owner"); parameters.Add(("owner", query.Owner)); }
        if (query.Collection is not null) { where.Add("collection = @collection"); parameters.Add(("collection", query.Collection)); }
        if (query.State is { } state) { where.Add("state = @state"); parameters.Add(("state", StateName(state))); }
        if (query.Person is not null) { where.Add("id IN (SELECT image_id FROM library_faces WHERE person_id = @person)"); parameters.Add(("person", query.Person)); }
        if (query.Cursor is not null)
        {
            if (!long.TryParse(query.Cursor, NumberStyles.None, CultureInfo.InvariantCulture, out var before))
                throw new Tasks.InvalidParameterException($"cursor '{query.Cursor}' is not one this listing gave; pass next_cursor from the previous page.", "cursor");
            where.Add("seq < @cursor");
            parameters.Add(("cursor", before));
        }
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection,
            $"SELECT {Columns} FROM library_images {(where.Count > 0 ? "WHERE " + string.Join(" AND ", where) : "")} ORDER BY seq DESC LIMIT @limit",
            [.. parameters]);
        var rows = new List<(long Seq, LibraryImage Image)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) rows.Add(Read(reader));
        var more = rows.Count > query.Limit;
        if (more) rows.RemoveAt(rows.Count - 1);
        return new LibraryPage(rows.Select(r => r.Image).ToList(), more ? rows[^1].Seq.ToString(CultureInfo.InvariantCulture) : null);
    }

    public async Task<bool> CollectionExistsAsync(string? owner, string collection, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = owner is null
            ? Command(connection, "SELECT 1 FROM library_images WHERE collection = @collection LIMIT 1", ("collection", collection))
            : Command(connection, "SELECT 1 FROM library_images WHERE collection = @collection AND owner = @owner LIMIT 1", ("collection", collection), ("owner", owner));
        return await command.ExecuteScalarAsync(cancellationToken) is not null;
    }

    public async Task<bool> MarkIndexedAsync(string id, IndexedFields fields, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var update = Command(connection,
            "UPDATE library_images SET state = @state, error = NULL, indexed_at = @at, fields = @fields, captured_at = @captured, " +
            "labels = @labels, face_count = @faces, caption = @caption, ocr_text = @ocr, models = @models WHERE id = @id",
            ("state", StateName(IndexState.Indexed)), ("at", at.ToUnixTimeMilliseconds()), ("fields", JsonSerializer.Serialize(fields, Json)),
            ("captured", fields.CapturedAt?.ToUnixTimeMilliseconds()), ("labels", LabelsColumn(fields.Labels)), ("faces", (long?)fields.FaceCount),
            ("caption", fields.Caption), ("ocr", fields.OcrText),
            ("models", fields.Models is null ? null : JsonSerializer.Serialize(fields.Models, Json)), ("id", id));
        update.Transaction = transaction;
        if (await update.ExecuteNonQueryAsync(cancellationToken) == 0) return false;
        var image = await GetAsync(connection, transaction, id, cancellationToken);
        await WriteTextAsync(connection, transaction, id, fields, image?.Tags ?? [], cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    private static async Task<LibraryImage?> GetAsync(DbConnection connection, DbTransaction transaction, string id, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, $"SELECT {Columns} FROM library_images WHERE id = @id", ("id", id));
        command.Transaction = transaction;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader).Image : null;
    }

    public async Task<bool> MarkFailedAsync(string id, string error, CancellationToken cancellationToken) =>
        await ExecuteAsync("UPDATE library_images SET state = @state, error = @error WHERE id = @id", cancellationToken,
            ("state", StateName(IndexState.Failed)), ("error", error), ("id", id)) == 1;

    public async Task<bool> MarkQueuedAsync(string id, CancellationToken cancellationToken) =>
        await ExecuteAsync("UPDATE library_images SET state = @state, error = NULL, job_id = NULL WHERE id = @id", cancellationToken,
            ("state", StateName(IndexState.Queued)), ("id", id)) == 1;

    public async Task<bool> AssignJobAsync(string id, string jobId, CancellationToken cancellationToken) =>
        await ExecuteAsync("UPDATE library_images SET job_id = @job WHERE id = @id", cancellationToken, ("job", jobId), ("id", id)) == 1;

    public async Task<bool> DeleteAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await WriteTextAsync(connection, transaction, id, null, [], cancellationToken);
        await using (var faces = Command(connection, "DELETE FROM library_faces WHERE image_id = @id", ("id", id)))
        {
            faces.Transaction = transaction;
            await faces.ExecuteNonQueryAsync(cancellationToken);
        }
        await using var delete = Command(connection, "DELETE FROM library_images WHERE id = @id", ("id", id));
        delete.Transaction = transaction;
        var deleted = await delete.ExecuteNonQueryAsync(cancellationToken) == 1;
        await transaction.CommitAsync(cancellationToken);
        return deleted;
    }

    public async Task<IReadOnlyList<TextMatch>> MatchTextAsync(IReadOnlyList<string> terms, VectorFilter filter, int limit, CancellationToken cancellationToken)
    {
        if (terms.Count == 0) return [];
        var (where, parameters) = Filter(filter);
        parameters.Add(("query", TextQueryValue(terms)));
        parameters.Add(("limit", (long)limit));
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, TextQuery(where), [.. parameters]);
        var matches = new List<TextMatch>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) matches.Add(new TextMatch(reader.GetString(0), matches.Count));
        return matches;
    }

    /// <summary>The filter as SQL over <c>library_images i</c> (always: indexed images only).</summary>
    private static (string Where, List<(string, object?)> Parameters) Filter(VectorFilter filter)
    {
        var where = new List<string> { "i.state = @indexed" };
        var parameters = new List<(string, object?)> { ("indexed", StateName(IndexState.Indexed)) };
        if (filter.Owner is not null) { where.Add("i.owner = @owner"); parameters.Add(("owner", filter.Owner)); }
        if (filter.Collection is not null) { where.Add("i.collection = @collection"); parameters.Add(("collection", filter.Collection)); }
        if (filter.Label is not null)
        {
            // Labels are stored as |a|b|, so one label matches whole, and LIKE's wildcards in it are escaped.
            where.Add("i.labels LIKE @label ESCAPE '\\'");
            parameters.Add(("label", "%|" + filter.Label.ToLowerInvariant().Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "|%"));
        }
        if (filter.After is { } after) { where.Add("i.captured_at >= @after"); parameters.Add(("after", after.ToUnixTimeMilliseconds())); }
        if (filter.Before is { } before) { where.Add("i.captured_at < @before"); parameters.Add(("before", before.ToUnixTimeMilliseconds())); }
        if (filter.HasFaces is { } faces) where.Add(faces ? "i.face_count > 0" : "coalesce(i.face_count, 0) = 0");
        if (filter.ImageIds is { } ids)
        {
            if (ids.Count == 0) where.Add("1 = 0");
            else
            {
                where.Add($"i.id IN ({string.Join(",", ids.Select((_, n) => "@only" + n.ToString(CultureInfo.InvariantCulture)))})");
                parameters.AddRange(ids.Select((id, n) => ("only" + n.ToString(CultureInfo.InvariantCulture), (object?)id)));
            }
        }
        return (string.Join(" AND ", where), parameters);
    }

    public async Task<long> CountAsync(string? owner, IndexState? state, CancellationToken cancellationToken)
    {
        var where = new List<string>();
        var parameters = new List<(string, object?)>();
        if (owner is not null) { where.Add("owner = @owner"); parameters.Add(("owner", owner)); }
        if (state is { } s) { where.Add("state = @state"); parameters.Add(("state", StateName(s))); }
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection,
            $"SELECT count(*) FROM library_images {(where.Count > 0 ? "WHERE " + string.Join(" AND ", where) : "")}", [.. parameters]);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    public async Task<IReadOnlyDictionary<IndexState, long>> CountByStateAsync(string? owner, string? collection, CancellationToken cancellationToken)
    {
        var where = new List<string>();
        var parameters = new List<(string, object?)>();
        if (owner is not null) { where.Add("owner = @owner"); parameters.Add(("owner", owner)); }
        if (collection is not null) { where.Add("collection = @collection"); parameters.Add(("collection", collection)); }
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection,
            $"SELECT state, count(*) FROM library_images {(where.Count > 0 ? "WHERE " + string.Join(" AND ", where) : "")} GROUP BY state", [.. parameters]);
        var counts = Enum.GetValues<IndexState>().ToDictionary(s => s, _ => 0L);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            if (Enum.TryParse<IndexState>(reader.GetString(0), ignoreCase: true, out var state))
                counts[state] = Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture);
        return counts;
    }

    public async Task<string?> GetSettingAsync(string key, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, "SELECT value FROM library_settings WHERE key = @key", ("key", key));
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    public Task SetSettingAsync(string key, string? value, CancellationToken cancellationToken) => value is null
        ? ExecuteAsync("DELETE FROM library_settings WHERE key = @key", cancellationToken, ("key", key))
        : ExecuteAsync("INSERT INTO library_settings (key, value) VALUES (@key, @value) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            cancellationToken, ("key", key), ("value", value));

    public async Task<IReadOnlyList<string>?> FindRequestAsync(string? owner, string key, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, "SELECT image_ids FROM library_requests WHERE owner = @owner AND key = @key", ("owner", owner ?? ""), ("key", key));
        return await command.ExecuteScalarAsync(cancellationToken) is string ids ? JsonSerializer.Deserialize<List<string>>(ids, Json) : null;
    }

    public Task SaveRequestAsync(string? owner, string key, IReadOnlyList<string> imageIds, CancellationToken cancellationToken) =>
        ExecuteAsync("INSERT INTO library_requests (owner, key, image_ids) VALUES (@owner, @key, @ids) ON CONFLICT (owner, key) DO NOTHING",
            cancellationToken, ("owner", owner ?? ""), ("key", key), ("ids", JsonSerializer.Serialize(imageIds, Json)));

    public Task MarkDistinctAsync(string a, string b, CancellationToken cancellationToken)
    {
        var (low, high) = Pair(a, b);
        return ExecuteAsync("INSERT INTO library_distinct (a, b) VALUES (@a, @b) ON CONFLICT (a, b) DO NOTHING", cancellationToken, ("a", low), ("b", high));
    }

    public async Task<IReadOnlySet<(string, string)>> DistinctPairsAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken)
    {
        var pairs = new HashSet<(string, string)>();
        if (ids.Count < 2) return pairs;
        var names = ids.Select((_, i) => "@p" + i.ToString(CultureInfo.InvariantCulture)).ToList();
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection,
            $"SELECT a, b FROM library_distinct WHERE a IN ({string.Join(",", names)}) AND b IN ({string.Join(",", names)})",
            ids.Select((id, i) => ("p" + i.ToString(CultureInfo.InvariantCulture), (object?)id)).ToArray());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) pairs.Add((reader.GetString(0), reader.GetString(1)));
        return pairs;
    }

    public static (string, string) Pair(string a, string b) => string.CompareOrdinal(a, b) < 0 ? (a, b) : (b, a);

    public async Task<IReadOnlyList<string>> ListIndexedIdsAsync(string? afterId, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection,
            "SELECT id FROM library_images WHERE state = @state AND id > @after ORDER BY id LIMIT @limit",
            ("state", StateName(IndexState.Indexed)), ("after", afterId ?? ""), ("limit", (long)limit));
        var ids = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) ids.Add(reader.GetString(0));
        return ids;
    }

    /// <summary>Labels as <c>|a|b|</c> in lower case, so <c>LIKE '%|a|%'</c> finds one label whole.</summary>
    private static string LabelsColumn(IReadOnlyList<string> labels) =>
        labels.Count == 0 ? "" : "|" + string.Join("|", labels.Select(l => l.ToLowerInvariant())) + "|";

    protected static string StateName(IndexState state) => state.ToString().ToLowerInvariant();

    private static (long Seq, LibraryImage Image) Read(DbDataReader reader)
    {
        string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
        long? Long(int i) => reader.IsDBNull(i) ? null : reader.GetInt64(i);
        var image = new LibraryImage
        {
            Id = reader.GetString(1),
            Owner = Text(2),
            Collection = reader.GetString(3),
            Tags = JsonSerializer.Deserialize<List<string>>(reader.GetString(4), Json) ?? [],
            ExternalId = Text(5),
            FileName = Text(6),
            MediaType = reader.GetString(7),
            Bytes = reader.GetInt64(8),
            AddedAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(9)),
            State = Enum.Parse<IndexState>(reader.GetString(10), ignoreCase: true),
            Error = Text(11),
            JobId = Text(12),
            IndexedAt = Long(13) is { } at ? DateTimeOffset.FromUnixTimeMilliseconds(at) : null,
            Fields = Text(14) is { } fields
                ? JsonSerializer.Deserialize<IndexedFields>(fields, Json)! with { Models = Text(15) is { } models ? JsonSerializer.Deserialize<FieldModels>(models, Json) : null }
                : null,
        };
        return (reader.GetInt64(0), image);
    }

    private async Task<int> ExecuteAsync(string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    protected static DbCommand Command(DbConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = "@" + name;
            // A null goes untyped, so PostgreSQL infers its type from the column it is written to.
            parameter.Value = value ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }
        return command;
    }

    /// <summary>Lower-case words of letters and digits: what both full-text indexes tokenize.</summary>
    public static IReadOnlyList<string> Terms(string text)
    {
        var terms = new List<string>();
        var word = new StringBuilder();
        foreach (var c in text + " ")
        {
            if (char.IsLetterOrDigit(c)) word.Append(char.ToLowerInvariant(c));
            else if (word.Length > 0)
            {
                var term = word.ToString();
                if (!terms.Contains(term)) terms.Add(term);
                word.Clear();
            }
        }
        return terms;
    }
}
