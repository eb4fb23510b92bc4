using Iris.Core.Library.People;

namespace Iris.Tests.Library.People;

public sealed class FaceClusteringTests
{
    private static readonly PeopleSettings Settings = new(Threshold: 0.70f, MinFaces: 3);
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);
    private readonly SyntheticFaces _faces = new();
    private int _ids;

    private ClusteringPlan Plan(IReadOnlyList<LibraryFace> faces, IReadOnlyList<Person>? people = null,
        IReadOnlySet<(string, string)>? rejected = null, PeopleSettings? settings = null) =>
        FaceClustering.Plan(faces, people ?? [], rejected ?? new HashSet<(string, string)>(), settings ?? Settings, () => $"p{++_ids}", Now);

    /// <summary>Face id → person id after the plan (the faces' own person where the plan leaves them).</summary>
    private static Dictionary<string, string?> After(IReadOnlyList<LibraryFace> faces, ClusteringPlan plan)
    {
        var result = faces.ToDictionary(f => f.Id, f => f.PersonId);
        foreach (var a in plan.Change.Assignments) result[a.FaceId] = a.PersonId;
        return result;
    }

    private static Person Named(string id, string? name, string? cover = null) => new() { Id = id, Name = name, CoverFaceId = cover, CreatedAt = Now, UpdatedAt = Now };

    [Fact]
    public void Faces_of_three_people_in_separate_photos_become_three_people_and_a_lone_stranger_stays_unassigned()
    {
        var faces = new List<LibraryFace>();
        var n = 0;
        foreach (var who in new[] { "ada", "bob", "cy" })
            for (var i = 0; i < 4; i++) faces.Add(_faces.Face($"img{n++}", 0, who));
        faces.Add(_faces.Face("img99", 0, "stranger"));

        var plan = Plan(faces);
        var after = After(faces, plan);

        Assert.Equal(3, plan.Created);
        Assert.Null(after[faces[^1].Id]);
        foreach (var group in faces.Take(12).Chunk(4))
        {
            Assert.Single(group.Select(f => after[f.Id]).Distinct());
            Assert.NotNull(after[group[0].Id]);
        }
        Assert.Equal(3, faces.Take(12).Select(f => after[f.Id]).Distinct().Count());
        Assert.Equal(12, plan.Assigned);
        Assert.Equal(1, plan.Unassigned);
    }

    [Fact]
    public void Two_faces_in_one_photo_are_never_one_person_even_with_the_same_descriptor()
    {
        // A mirror or a twin: two faces of one photo that look alike, plus three more photos of the same person.
        var twin = _faces.Descriptor("ada");
        var faces = new List<LibraryFace>
        {
            _faces.Face("group", 0, "ada") with { Descriptor = twin },
            _faces.Face("group", 1, "ada") with { Descriptor = twin },
            _faces.Face("a1", 0, "ada"), _faces.Face("a2", 0, "ada"), _faces.Face("a3", 0, "ada"),
        };

        var after = After(faces, Plan(faces));

        Assert.NotEqual(after["group_0"], after["group_1"]);
        Assert.Equal(4, faces.Count(f => after[f.Id] == after["a1_0"]));
    }

    [Fact]
    public void Clustering_removes_an_automatic_face_from_a_person_that_already_has_a_face_of_its_photo()
    {
        var faces = new List<LibraryFace>
        {
            _faces.Face("group", 0, "ada", "p-ada", FaceSource.User),
            _faces.Face("group", 1, "ada", "p-ada"),
            _faces.Face("a1", 0, "ada", "p-ada"),
        };

        var after = After(faces, Plan(faces, [Named("p-ada", "Ada")]));

        Assert.Equal("p-ada", after["group_0"]);
        Assert.Null(after["group_1"]);
        Assert.Equal("p-ada", after["a1_0"]);
    }

    [Fact]
    public void A_new_face_joins_the_nearest_person_above_the_threshold_and_a_stranger_joins_nobody()
    {
        var faces = new List<LibraryFace>
        {
            _faces.Face("a1", 0, "ada", "p-ada"), _faces.Face("a2", 0, "ada", "p-ada"),
            _faces.Face("b1", 0, "bob", "p-bob"), _faces.Face("b2", 0, "bob", "p-bob"),
            _faces.Face("new", 0, "bob"), _faces.Face("new", 1, "ada"), _faces.Face("new", 2, "stranger"),
        };

        var plan = Plan(faces, [Named("p-ada", "Ada", "a1_0"), Named("p-bob", null, "b1_0")]);
        var after = After(faces, plan);

        Assert.Equal("p-bob", after["new_0"]);
        Assert.Equal("p-ada", after["new_1"]);
        Assert.Null(after["new_2"]);
        Assert.Equal(0, plan.Created);
    }

    [Fact]
    public void Groups_smaller_than_min_faces_wait_unassigned_until_more_photos_come()
    {
        var faces = new List<LibraryFace> { _faces.Face("a1", 0, "ada"), _faces.Face("a2", 0, "ada") };
        Assert.Equal(0, Plan(faces).Created);

        faces.Add(_faces.Face("a3", 0, "ada"));
        var plan = Plan(faces);
        Assert.Equal(1, plan.Created);
        Assert.Single(After(faces, plan).Values.Distinct());
        Assert.Equal(1, Plan(faces.Take(1).ToList(), settings: Settings with { MinFaces = 1 }).Created);
    }

    [Fact]
    public void Running_clustering_again_changes_nothing_and_keeps_ids_names_and_covers()
    {
        var faces = Enumerable.Range(0, 4).Select(i => _faces.Face($"a{i}", 0, "ada")).Concat(Enumerable.Range(0, 3).Select(i => _faces.Face($"b{i}", 0, "bob"))).ToList();
        var first = Plan(faces);
        var people = first.Change.Upserts.Select((p, i) => p with { Name = i == 0 ? "Ada" : null }).ToList();
        var placed = faces.Select(f => f with { PersonId = After(faces, first)[f.Id] }).ToList();

        var second = Plan(placed, people);

        Assert.True(second.Change.IsEmpty);
        Assert.Equal(2, second.People);
    }

    [Fact]
    public void A_named_person_left_with_no_face_is_kept_and_an_unnamed_one_is_removed()
    {
        var plan = Plan([], [Named("p-ada", "Ada"), Named("p-anon", null)]);

        Assert.Equal(["p-anon"], plan.Change.Removals);
        Assert.Empty(plan.Change.Upserts);
    }

    [Fact]
    public void Faces_a_user_placed_stay_even_when_they_look_like_someone_else()
    {
        var faces = new List<LibraryFace>
        {
            _faces.Face("a1", 0, "ada", "p-ada"), _faces.Face("a2", 0, "ada", "p-ada"),
            _faces.Face("b1", 0, "bob", "p-ada", FaceSource.User), // the user says this face is Ada
        };

        var after = After(faces, Plan(faces, [Named("p-ada", "Ada", "a1_0")]));

        Assert.Equal("p-ada", after["b1_0"]);
    }

    [Fact]
    public void A_face_a_user_separated_from_a_person_never_rejoins_that_person()
    {
        var faces = new List<LibraryFace>
        {
            _faces.Face("a1", 0, "ada", "p-ada"), _faces.Face("a2", 0, "ada", "p-ada"), _faces.Face("a3", 0, "ada", "p-ada"),
            _faces.Face("a4", 0, "ada"), // looks like Ada, but the user took it out of Ada before
        };
        var rejected = new HashSet<(string, string)> { ("a4_0", "p-ada"), ("a3_0", "p-ada") };

        var after = After(faces, Plan(faces, [Named("p-ada", "Ada", "a1_0")], rejected, Settings with { MinFaces = 1 }));

        Assert.NotEqual("p-ada", after["a4_0"]);
        Assert.NotEqual("p-ada", after["a3_0"]);
        Assert.Equal("p-ada", after["a1_0"]);
    }

    [Fact]
    public void The_result_does_not_depend_on_the_order_of_the_faces()
    {
        var faces = Enumerable.Range(0, 12).Select(i => _faces.Face($"i{i:00}", 0, i % 3 == 0 ? "ada" : i % 3 == 1 ? "bob" : "cy")).ToList();
        var forward = After(faces, Plan(faces));
        _ids = 0;
        var backward = After(faces, Plan(faces.AsEnumerable().Reverse().ToList()));

        Assert.Equal(forward, backward);
    }
}
