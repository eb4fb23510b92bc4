using Iris.Core.Detection;
using Iris.Core.Jobs.Sqlite;
using Iris.Core.Library;
using Iris.Core.Library.People;
using Iris.Core.Library.Vectors;
using Iris.Tests.Support;

namespace Iris.Tests.Library.People;

/// <summary>People over the library's real stores (SQLite and PostgreSQL): faces, clustering, merge, split, and the person filters.</summary>
public abstract class PeopleStoreContract : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly SyntheticFaces _faces = new(11);

    protected SqlLibraryStore Store { get; private set; } = null!;
    private LibraryPeople People { get; set; } = null!;

    protected abstract Task<SqlLibraryStore> CreateAsync();
    protected virtual Task CleanUpAsync() => Task.CompletedTask;

    public async Task InitializeAsync()
    {
        Store = await CreateAsync();
        await Store.InitializeAsync(None);
        People = new LibraryPeople(Store, new PeopleSettings(0.70f, MinFaces: 2, ClusterOnIndex: false));
    }

    public async Task DisposeAsync()
    {
        await Store.DisposeAsync();
        await CleanUpAsync();
    }

    private static string Id(int n) => n.ToString("x32");

    /// <summary>Adds and indexes image <paramref name="n"/> with one face per identity given.</summary>
    private async Task<string> PhotoAsync(int n, string? owner, params string[] identities)
    {
        var id = Id(n);
        await Store.AddAsync(new LibraryImage { Id = id, MediaType = "image/png", Owner = owner, AddedAt = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000 + n) }, None);
        await Store.MarkIndexedAsync(id, new IndexedFields { Caption = $"photo {n}", FaceCount = identities.Length }, DateTimeOffset.UtcNow, None);
        await People.AddFacesAsync(id, owner, identities.Select((who, i) => new FoundFace(new BoundingBox(10 * i, 0, 10 * i + 8, 8), 0.9f, _faces.Descriptor(who))).ToList(), None);
        return id;
    }

    private async Task<Dictionary<string, string?>> PersonOfFacesAsync(string? owner = null) =>
        (await Store.FacesAsync(LibraryPeople.Key(owner), None)).ToDictionary(f => f.Id, f => f.PersonId);

    [Fact]
    public async Task Faces_saved_again_keep_their_person_and_a_face_no_longer_found_is_removed()
    {
        var id = await PhotoAsync(1, null, "ada", "bob");
        await PhotoAsync(2, null, "ada");
        await People.ReclusterAsync(null, None);
        var person = (await PersonOfFacesAsync())[LibraryFace.IdOf(id, 0)];
        Assert.NotNull(person);

        await Store.SaveFacesAsync(id, "", [new LibraryFace { Id = LibraryFace.IdOf(id, 0), ImageId = id, Descriptor = _faces.Descriptor("ada") }], None);

        var faces = await Store.FacesOfAsync([id], null, None);
        Assert.Equal(person, Assert.Single(faces).PersonId);
        Assert.Equal(SyntheticFaces.Dimensions, faces[0].Descriptor.Length);
    }

    [Fact]
    public async Task Clustering_finds_the_people_counts_their_faces_and_images_and_filters_search_and_listing_by_person()
    {
        var group = await PhotoAsync(1, null, "ada", "bob");
        await PhotoAsync(2, null, "ada");
        await PhotoAsync(3, null, "bob");
        await PhotoAsync(4, null, "ada");
        await PhotoAsync(5, null, "stranger");

        var plan = await People.ReclusterAsync(null, None);

        Assert.Equal(2, plan.Created);
        Assert.Equal(1, plan.Unassigned);
        var people = await People.ListAsync(null, None);
        Assert.Equal([3, 2], people.Select(p => p.FaceCount));
        var ada = people[0];
        Assert.Equal(3, ada.ImageCount);
        Assert.NotNull(ada.Cover);
        Assert.Equal([Id(4), Id(2), group], (await People.GetAsync(ada.Person.Id, null, None)).ImageIds);

        var listed = await Store.ListAsync(new LibraryQuery(Person: ada.Person.Id), None);
        Assert.Equal([Id(4), Id(2), group], listed.Images.Select(i => i.Id));
        var text = await Store.MatchTextAsync(["photo"], new VectorFilter(ImageIds: await People.ImagesOfAsync(people[1].Person.Id, null, None)), 10, None);
        Assert.Equal([group, Id(3)], text.Select(t => t.ImageId).Order());
    }

    [Fact]
    public async Task Reclustering_never_dissolves_or_renames_a_named_person()
    {
        await PhotoAsync(1, null, "ada");
        await PhotoAsync(2, null, "ada");
        await People.ReclusterAsync(null, None);
        var ada = Assert.Single(await People.ListAsync(null, None)).Person;
        await People.RenameAsync(ada.Id, null, "Ada", None);

        await Store.DeleteAsync(Id(1), None);
        await People.ReclusterAsync(null, None);
        await PhotoAsync(3, null, "ada");
        await People.ReclusterAsync(null, None);

        var kept = Assert.Single(await People.ListAsync(null, None));
        Assert.Equal((ada.Id, "Ada", 2), (kept.Person.Id, kept.Person.Name, kept.FaceCount));

        // Every face gone: the named person stays, empty, ready for the next photo a user files under it.
        await Store.DeleteAsync(Id(2), None);
        await Store.DeleteAsync(Id(3), None);
        await People.ReclusterAsync(null, None);
        Assert.Equal((ada.Id, "Ada", 0), Assert.Single(await People.ListAsync(null, None)) is var empty ? (empty.Person.Id, empty.Person.Name, empty.FaceCount) : default);
    }

    [Fact]
    public async Task Merged_faces_stay_merged_when_clustering_runs_again()
    {
        // Two groups of the same person that clustering keeps apart (a strict threshold), merged by the user.
        People = new LibraryPeople(Store, new PeopleSettings(0.99f, MinFaces: 1, ClusterOnIndex: false));
        await PhotoAsync(1, null, "ada");
        await PhotoAsync(2, null, "ada");
        await People.ReclusterAsync(null, None);
        var two = await People.ListAsync(null, None);
        Assert.Equal(2, two.Count);
        await People.RenameAsync(two[1].Person.Id, null, "Ada", None);

        var merged = await People.MergeAsync(two[0].Person.Id, null, [two[1].Person.Id], None);
        await People.ReclusterAsync(null, None);

        Assert.Equal("Ada", merged.Person.Name);
        var person = Assert.Single(await People.ListAsync(null, None));
        Assert.Equal((two[0].Person.Id, 2), (person.Person.Id, person.FaceCount));
        Assert.All(await Store.FacesOfAsync(null, person.Person.Id, None), f => Assert.Equal(FaceSource.User, f.Source));
        await Assert.ThrowsAsync<PersonNotFoundException>(() => People.GetAsync(two[1].Person.Id, null, None));
    }

    [Fact]
    public async Task Faces_split_out_of_a_person_never_rejoin_it_when_clustering_runs_again()
    {
        // Clustering put bob's look-alike (same identity here) with ada; the user splits those faces out.
        await PhotoAsync(1, null, "ada");
        await PhotoAsync(2, null, "ada");
        await PhotoAsync(3, null, "ada");
        await PhotoAsync(4, null, "ada");
        await People.ReclusterAsync(null, None);
        var person = Assert.Single(await People.ListAsync(null, None)).Person;

        var split = await People.SplitAsync(person.Id, null, [LibraryFace.IdOf(Id(3), 0), LibraryFace.IdOf(Id(4), 0)], "Bob", None);
        await People.ReclusterAsync(null, None);
        await Store.SaveFacesAsync(Id(4), "", (await Store.FacesOfAsync([Id(4)], null, None)).Select(f => f with { PersonId = null }).ToList(), None);
        await People.ReclusterAsync(null, None);

        var faces = await PersonOfFacesAsync();
        Assert.Equal("Bob", split.Person.Name);
        Assert.Equal(split.Person.Id, faces[LibraryFace.IdOf(Id(3), 0)]);
        Assert.Equal(split.Person.Id, faces[LibraryFace.IdOf(Id(4), 0)]);
        Assert.Equal(person.Id, faces[LibraryFace.IdOf(Id(1), 0)]);
        Assert.Equal(2, (await People.ListAsync(null, None)).Count);
    }

    [Fact]
    public async Task A_split_names_only_faces_of_the_person_and_a_merge_needs_other_people()
    {
        await PhotoAsync(1, null, "ada");
        await PhotoAsync(2, null, "ada");
        await PhotoAsync(3, null, "bob");
        await PhotoAsync(4, null, "bob");
        await People.ReclusterAsync(null, None);
        var people = await People.ListAsync(null, None);
        var stranger = (await Store.FacesOfAsync(null, people[1].Person.Id, None))[0].Id;

        await Assert.ThrowsAsync<Iris.Core.Tasks.InvalidParameterException>(() => People.SplitAsync(people[0].Person.Id, null, [stranger], null, None));
        await Assert.ThrowsAsync<Iris.Core.Tasks.InvalidParameterException>(() => People.MergeAsync(people[0].Person.Id, null, [people[0].Person.Id], None));
        await Assert.ThrowsAsync<PersonNotFoundException>(() => People.MergeAsync(people[0].Person.Id, null, ["nobody"], None));
    }

    [Fact]
    public async Task People_never_span_owners_and_another_owners_person_is_not_found()
    {
        await PhotoAsync(1, "alice", "ada");
        await PhotoAsync(2, "alice", "ada");
        await PhotoAsync(3, "bob", "ada");
        await PhotoAsync(4, "bob", "ada");
        await People.ReclusterAsync("alice", None);
        await People.ReclusterAsync("bob", None);

        var alices = Assert.Single(await People.ListAsync("alice", None));
        Assert.Equal(2, alices.FaceCount);
        Assert.Single(await People.ListAsync("bob", None));
        await Assert.ThrowsAsync<PersonNotFoundException>(() => People.GetAsync(alices.Person.Id, "bob", None));
        await Assert.ThrowsAsync<PersonNotFoundException>(() => People.RenameAsync(alices.Person.Id, "bob", "Eve", None));
    }

    [Fact]
    public async Task Deleting_an_image_removes_its_faces_and_the_cover_moves_to_a_remaining_face()
    {
        await PhotoAsync(1, null, "ada");
        await PhotoAsync(2, null, "ada");
        await PhotoAsync(3, null, "ada");
        await People.ReclusterAsync(null, None);
        var cover = Assert.Single(await People.ListAsync(null, None)).Cover!;

        await Store.DeleteAsync(cover.ImageId, None);
        await People.ReclusterAsync(null, None);

        Assert.Empty(await Store.FacesOfAsync([cover.ImageId], null, None));
        var person = Assert.Single(await People.ListAsync(null, None));
        Assert.Equal(2, person.FaceCount);
        Assert.NotEqual(cover.ImageId, person.Cover!.ImageId);
    }
}

public sealed class SqlitePeopleStoreTests : PeopleStoreContract
{
    private readonly TempDirectory _directory = new();

    protected override Task<SqlLibraryStore> CreateAsync() =>
        Task.FromResult<SqlLibraryStore>(new SqliteLibraryStore(new SqliteJobDatabase(_directory.File("jobs.db"))));

    protected override Task CleanUpAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _directory.Dispose();
        return Task.CompletedTask;
    }
}

public sealed class PostgresPeopleStoreTests : PeopleStoreContract
{
    private string _connectionString = "";

    protected override async Task<SqlLibraryStore> CreateAsync()
    {
        _connectionString = await TestServices.CreateDatabaseAsync();
        return new PostgresLibraryStore(_connectionString);
    }

    protected override Task CleanUpAsync() => TestServices.DropDatabaseAsync(_connectionString);
}
