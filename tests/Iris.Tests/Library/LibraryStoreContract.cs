using Iris.Core.Jobs.Sqlite;
using Iris.Core.Library;
using Iris.Core.Library.Vectors;
using Iris.Tests.Support;

namespace Iris.Tests.Library;

/// <summary>The library's metadata store, the same behaviour in SQLite (FTS5) and PostgreSQL (tsvector).</summary>
public abstract class LibraryStoreContract : IAsyncLifetime
{
    protected ILibraryStore Store { get; private set; } = null!;

    protected abstract Task<ILibraryStore> CreateAsync();
    protected virtual Task CleanUpAsync() => Task.CompletedTask;

    /// <summary>
    /// A store over a new database that holds a library made before the <c>models</c> column (the schema Iris shipped
    /// first), with image <see cref="OldImageId"/> indexed in it.
    /// </summary>
    protected abstract Task<ILibraryStore> CreateOverFirstSchemaAsync();

    protected const string OldImageId = "0000000000000000000000000000000a";

    /// <summary>The first library_images columns (no <c>models</c>), shared by both dialects' old tables.</summary>
    protected const string FirstColumns =
        "seq {0}, id TEXT NOT NULL UNIQUE, owner TEXT, collection TEXT NOT NULL, tags TEXT NOT NULL, external_id TEXT, file_name TEXT, " +
        "media_type TEXT NOT NULL, bytes BIGINT NOT NULL, added_at BIGINT NOT NULL, state TEXT NOT NULL, error TEXT, job_id TEXT, indexed_at BIGINT, " +
        "fields TEXT, captured_at BIGINT, labels TEXT, face_count BIGINT, caption TEXT, ocr_text TEXT";

    protected const string FirstRow =
        "INSERT INTO library_images (id, collection, tags, media_type, bytes, added_at, state, indexed_at, fields, caption) VALUES " +
        "('" + OldImageId + "', 'default', '[]', 'image/png', 10, 1700000000000, 'indexed', 1700000000000, '{\"width\":4,\"height\":3,\"caption\":\"old\"}', 'old')";

    public async Task InitializeAsync()
    {
        Store = await CreateAsync();
        await Store.InitializeAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await Store.DisposeAsync();
        await CleanUpAsync();
    }

    private static readonly CancellationToken None = CancellationToken.None;

    private static LibraryImage Image(string id, string collection = "default", string? owner = null, params string[] tags) => new()
    {
        Id = id, MediaType = "image/png", Bytes = 10, Collection = collection, Owner = owner, Tags = tags,
        AddedAt = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000),
    };

    private static string Id(int n) => n.ToString("x32");

    private async Task IndexAsync(string id, string? caption = null, string? ocr = null, string[]? labels = null, int faces = 0, DateTimeOffset? captured = null,
        string collection = "default", string? owner = null, string[]? tags = null)
    {
        await Store.AddAsync(Image(id, collection, owner, tags ?? []), None);
        await Store.MarkIndexedAsync(id, new IndexedFields { Caption = caption, OcrText = ocr, Labels = labels ?? [], FaceCount = faces, CapturedAt = captured }, DateTimeOffset.UtcNow, None);
    }

    [Fact]
    public async Task The_same_id_added_twice_is_one_image_and_the_second_add_says_it_was_not_created()
    {
        var (first, created) = await Store.AddAsync(Image(Id(1), tags: "a"), None);
        var (second, createdAgain) = await Store.AddAsync(Image(Id(1), "other", tags: "b"), None);
        Assert.True(created);
        Assert.False(createdAgain);
        Assert.Equal("default", second.Collection);
        Assert.Equal(first.Id, second.Id);
        Assert.Equal(IndexState.Queued, second.State);
        Assert.Single((await Store.ListAsync(new LibraryQuery(), None)).Images);
    }

    [Fact]
    public async Task A_job_recorded_after_its_worker_indexed_the_image_leaves_the_image_indexed()
    {
        // Ingest marks the image queued, submits the job, then records the job id; a fast worker may index it in between.
        await Store.AddAsync(Image(Id(1)), None);
        await Store.MarkQueuedAsync(Id(1), None);
        await Store.MarkIndexedAsync(Id(1), new IndexedFields { Caption = "a red flower" }, DateTimeOffset.UtcNow, None);
        Assert.True(await Store.AssignJobAsync(Id(1), "job-1", None));

        var image = await Store.GetAsync(Id(1), None);
        Assert.Equal(IndexState.Indexed, image!.State);
        Assert.Equal("job-1", image.JobId);
    }

    [Fact]
    public async Task Marking_an_image_queued_again_clears_its_error_and_its_old_job()
    {
        await Store.AddAsync(Image(Id(1)), None);
        Assert.True(await Store.AssignJobAsync(Id(1), "job-1", None));
        await Store.MarkFailedAsync(Id(1), "decode failed", None);
        Assert.True(await Store.MarkQueuedAsync(Id(1), None));

        var image = await Store.GetAsync(Id(1), None);
        Assert.Equal(IndexState.Queued, image!.State);
        Assert.Null(image.Error);
        Assert.Null(image.JobId);
    }

    [Fact]
    public async Task Indexing_an_image_twice_leaves_one_full_text_entry()
    {
        await IndexAsync(Id(1), caption: "a red flower");
        await Store.MarkIndexedAsync(Id(1), new IndexedFields { Caption = "a red flower with petals" }, DateTimeOffset.UtcNow, None);
        var matches = await Store.MatchTextAsync(["flower"], VectorFilter.None, 10, None);
        Assert.Equal([Id(1)], matches.Select(m => m.ImageId));
        var image = await Store.GetAsync(Id(1), None);
        Assert.Equal(IndexState.Indexed, image!.State);
        Assert.Equal("a red flower with petals", image.Fields!.Caption);
    }

    [Fact]
    public async Task Text_matches_caption_ocr_text_labels_and_tags_with_stemming_and_only_indexed_images()
    {
        await IndexAsync(Id(1), caption: "two dogs on a beach");
        await IndexAsync(Id(2), ocr: "SALE 50% OFF");
        await IndexAsync(Id(3), labels: ["bicycle"]);
        await IndexAsync(Id(4), tags: ["holiday"]);
        await Store.AddAsync(Image(Id(5)), None); // queued: not searchable yet
        Assert.Equal([Id(1)], (await Store.MatchTextAsync(["dog"], VectorFilter.None, 10, None)).Select(m => m.ImageId));
        Assert.Equal([Id(2)], (await Store.MatchTextAsync(["sale"], VectorFilter.None, 10, None)).Select(m => m.ImageId));
        Assert.Equal([Id(3)], (await Store.MatchTextAsync(["bicycles"], VectorFilter.None, 10, None)).Select(m => m.ImageId));
        Assert.Equal([Id(4)], (await Store.MatchTextAsync(["holiday"], VectorFilter.None, 10, None)).Select(m => m.ImageId));
        Assert.Equal(3, (await Store.MatchTextAsync(["dog", "sale", "holiday", "nothing"], VectorFilter.None, 10, None)).Count);
    }

    [Fact]
    public async Task Filters_apply_inside_the_text_query_so_a_filtered_page_is_full()
    {
        for (var i = 0; i < 30; i++)
            await IndexAsync(Id(i), caption: "a flower", labels: i % 3 == 0 ? ["bee"] : [], faces: i % 2, collection: i < 20 ? "garden" : "field",
                captured: new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero).AddDays(i), owner: i % 5 == 0 ? "alice" : "bob");
        var bees = await Store.MatchTextAsync(["flower"], new VectorFilter(Label: "bee"), 5, None);
        Assert.Equal(5, bees.Count);
        Assert.All(bees, m => Assert.Equal(0, Convert.ToInt32(m.ImageId, 16) % 3));
        Assert.Equal(10, (await Store.MatchTextAsync(["flower"], new VectorFilter(Collection: "field"), 50, None)).Count);
        Assert.Equal(15, (await Store.MatchTextAsync(["flower"], new VectorFilter(HasFaces: true), 50, None)).Count);
        Assert.Equal(15, (await Store.MatchTextAsync(["flower"], new VectorFilter(HasFaces: false), 50, None)).Count);
        Assert.Equal(6, (await Store.MatchTextAsync(["flower"], new VectorFilter(Owner: "alice"), 50, None)).Count);
        var window = await Store.MatchTextAsync(["flower"], new VectorFilter(After: new DateTimeOffset(2024, 1, 11, 0, 0, 0, TimeSpan.Zero), Before: new DateTimeOffset(2024, 1, 21, 0, 0, 0, TimeSpan.Zero)), 50, None);
        Assert.Equal(Enumerable.Range(10, 10).Select(Id).Order(), window.Select(m => m.ImageId).Order());
        Assert.Empty(await Store.MatchTextAsync(["flower"], new VectorFilter(Label: "b%"), 50, None));
    }

    [Fact]
    public async Task A_deleted_image_is_gone_from_the_rows_and_the_full_text_index()
    {
        await IndexAsync(Id(1), caption: "a red flower");
        Assert.True(await Store.DeleteAsync(Id(1), None));
        Assert.Null(await Store.GetAsync(Id(1), None));
        Assert.Empty(await Store.MatchTextAsync(["flower"], VectorFilter.None, 10, None));
        Assert.False(await Store.DeleteAsync(Id(1), None));
    }

    [Fact]
    public async Task Listing_pages_newest_first_by_collection_and_state_with_a_cursor()
    {
        for (var i = 0; i < 5; i++) await Store.AddAsync(Image(Id(i), i < 3 ? "a" : "b"), None);
        await Store.MarkFailedAsync(Id(1), "corrupt", None);
        var first = await Store.ListAsync(new LibraryQuery(Limit: 2), None);
        Assert.Equal([Id(4), Id(3)], first.Images.Select(i => i.Id));
        var second = await Store.ListAsync(new LibraryQuery(Limit: 2, Cursor: first.NextCursor), None);
        Assert.Equal([Id(2), Id(1)], second.Images.Select(i => i.Id));
        var last = await Store.ListAsync(new LibraryQuery(Limit: 2, Cursor: second.NextCursor), None);
        Assert.Equal([Id(0)], last.Images.Select(i => i.Id));
        Assert.Null(last.NextCursor);
        Assert.Equal([Id(2), Id(1), Id(0)], (await Store.ListAsync(new LibraryQuery(Collection: "a"), None)).Images.Select(i => i.Id));
        var failed = Assert.Single((await Store.ListAsync(new LibraryQuery(State: IndexState.Failed), None)).Images);
        Assert.Equal("corrupt", failed.Error);
        Assert.True(await Store.CollectionExistsAsync(null, "b", None));
        Assert.False(await Store.CollectionExistsAsync(null, "c", None));
        Assert.Equal(1, await Store.CountAsync(null, IndexState.Failed, None));
    }

    [Fact]
    public async Task Counts_by_state_come_per_collection_and_owner_with_zeros_for_an_empty_collection()
    {
        for (var i = 0; i < 6; i++) await Store.AddAsync(Image(Id(i), i < 4 ? "a" : "b", owner: i == 0 ? "alice" : null), None);
        await Store.MarkIndexedAsync(Id(1), new IndexedFields(), DateTimeOffset.UtcNow, None);
        await Store.MarkIndexedAsync(Id(2), new IndexedFields(), DateTimeOffset.UtcNow, None);
        await Store.MarkFailedAsync(Id(3), "corrupt", None);
        Assert.Equal(new Dictionary<IndexState, long> { [IndexState.Queued] = 1, [IndexState.Indexed] = 2, [IndexState.Failed] = 1 },
            await Store.CountByStateAsync(null, "a", None));
        Assert.Equal(new Dictionary<IndexState, long> { [IndexState.Queued] = 3, [IndexState.Indexed] = 2, [IndexState.Failed] = 1 },
            await Store.CountByStateAsync(null, null, None));
        Assert.Equal(new Dictionary<IndexState, long> { [IndexState.Queued] = 1, [IndexState.Indexed] = 0, [IndexState.Failed] = 0 },
            await Store.CountByStateAsync("alice", "a", None));
        Assert.All(await Store.CountByStateAsync(null, "never-filled", None), c => Assert.Equal(0, c.Value));
    }

    [Fact]
    public async Task Which_model_made_each_field_is_stored_beside_the_fields()
    {
        await Store.AddAsync(Image(Id(1)), None);
        var models = new FieldModels(Caption: new("captioner", "1.0"), Labels: new("detector", "2"), OcrText: null, FaceCount: new("faces", "3"));
        await Store.MarkIndexedAsync(Id(1), new IndexedFields { Caption = "a red flower", Models = models }, DateTimeOffset.UtcNow, None);
        Assert.Equal(models, (await Store.GetAsync(Id(1), None))!.Fields!.Models);
        Assert.Equal(models, Assert.Single((await Store.ListAsync(new LibraryQuery(), None)).Images).Fields!.Models);
    }

    [Fact]
    public async Task A_library_made_before_the_models_column_is_upgraded_in_place_and_keeps_its_images()
    {
        await using var store = await CreateOverFirstSchemaAsync();
        await store.InitializeAsync(None);
        await store.InitializeAsync(None); // a second process starting later finds the column there
        var old = await store.GetAsync(OldImageId, None);
        Assert.Equal(IndexState.Indexed, old!.State);
        Assert.Equal("old", old.Fields!.Caption);
        Assert.Null(old.Fields.Models); // indexed before credits were recorded: no credit, not a wrong one
        var models = new FieldModels(Caption: new("captioner", "1.0"));
        Assert.True(await store.MarkIndexedAsync(OldImageId, old.Fields with { Models = models }, DateTimeOffset.UtcNow, None));
        Assert.Equal(models, (await store.GetAsync(OldImageId, None))!.Fields!.Models);
    }

    [Fact]
    public async Task Settings_and_idempotent_requests_round_trip()
    {
        Assert.Null(await Store.GetSettingAsync("k", None));
        await Store.SetSettingAsync("k", "1", None);
        await Store.SetSettingAsync("k", "2", None);
        Assert.Equal("2", await Store.GetSettingAsync("k", None));
        Assert.Null(await Store.FindRequestAsync("alice", "key", None));
        await Store.SaveRequestAsync("alice", "key", [Id(1), Id(2)], None);
        await Store.SaveRequestAsync("alice", "key", [Id(3)], None);
        Assert.Equal([Id(1), Id(2)], await Store.FindRequestAsync("alice", "key", None));
        Assert.Null(await Store.FindRequestAsync(null, "key", None));
    }
}

public sealed class SqliteLibraryStoreTests : LibraryStoreContract
{
    private readonly TempDirectory _directory = new();

    protected override Task<ILibraryStore> CreateAsync() =>
        Task.FromResult<ILibraryStore>(new SqliteLibraryStore(new SqliteJobDatabase(_directory.File("jobs.db"))));

    protected override async Task<ILibraryStore> CreateOverFirstSchemaAsync()
    {
        var file = _directory.File("first.db");
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={file}"))
        {
            await connection.OpenAsync();
            await using var create = connection.CreateCommand();
            create.CommandText = $"CREATE TABLE library_images ({string.Format(FirstColumns, "INTEGER PRIMARY KEY AUTOINCREMENT")}); {FirstRow};";
            await create.ExecuteNonQueryAsync();
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        return new SqliteLibraryStore(new SqliteJobDatabase(file));
    }

    protected override Task CleanUpAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _directory.Dispose();
        return Task.CompletedTask;
    }
}

public sealed class PostgresLibraryStoreTests : LibraryStoreContract
{
    private string _connectionString = "";

    protected override async Task<ILibraryStore> CreateAsync()
    {
        _connectionString = await TestServices.CreateDatabaseAsync();
        return new PostgresLibraryStore(_connectionString);
    }

    private string _firstSchema = "";

    protected override async Task<ILibraryStore> CreateOverFirstSchemaAsync()
    {
        _firstSchema = await TestServices.CreateDatabaseAsync();
        await using (var connection = new Npgsql.NpgsqlConnection(_firstSchema))
        {
            await connection.OpenAsync();
            await using var create = new Npgsql.NpgsqlCommand(
                $"CREATE TABLE library_images ({string.Format(FirstColumns, "BIGSERIAL PRIMARY KEY")}, search TSVECTOR); {FirstRow};", connection);
            await create.ExecuteNonQueryAsync();
        }
        return new PostgresLibraryStore(_firstSchema);
    }

    protected override async Task CleanUpAsync()
    {
        await TestServices.DropDatabaseAsync(_connectionString);
        if (_firstSchema.Length > 0) await TestServices.DropDatabaseAsync(_firstSchema);
    }
}
