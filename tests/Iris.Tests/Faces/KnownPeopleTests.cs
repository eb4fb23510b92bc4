using System.Text.Json;
using Iris.Core.Faces;
using Iris.Core.Faces.Recognition;
using Iris.Core.Jobs.Sqlite;
using Iris.Tests.Support;
using Xunit.Abstractions;

namespace Iris.Tests.Faces;

/// <summary>The registry and recognition, run against each database the registry lives in.</summary>
public abstract class KnownPeopleContractTests : IAsyncLifetime
{
    private readonly MirrorModels _models = new();
    protected abstract Task<IKnownPeopleStore> CreateStoreAsync();
    protected virtual Task DropStoreAsync() => Task.CompletedTask;

    protected KnownPeople People { get; private set; } = null!;
    private IKnownPeopleStore _store = null!;

    public async Task InitializeAsync() => People = new KnownPeople(_store = await CreateStoreAsync(), _models.Get<FaceEmbedder>(), 0.7f);

    public async Task DisposeAsync()
    {
        await DropStoreAsync();
        _models.Dispose();
    }

    private static byte[] Crop(string name) => File.ReadAllBytes(Path.Combine(FaceResTests.RealModels, $"face-{name}.png"));
    private static byte[] Photo(string name) => File.ReadAllBytes(TestPaths.RealImage(name));

    private static float[] Region(string crop) => JsonDocument.Parse(File.ReadAllText(Path.Combine(FaceResTests.RealModels, "reference.json"))).RootElement
        .GetProperty("faceres").GetProperty($"face-{crop}-224.png").GetProperty("crop_wh_x_y").EnumerateArray().Select(v => v.GetSingle()).ToArray();

    [Fact]
    public async Task The_nine_people_registered_from_their_crops_are_recognised_in_the_group_photo_and_a_stranger_is_unknown()
    {
        foreach (var letter in "abcdefghi")
            await People.RegisterAsync(null, $"person {letter}", [new FaceSample("image", Crop($"f16{letter}"))], FaceChoice.Only, addToExisting: false);

        var group = await People.RecognizeAsync(null, Photo("faces-16.jpg"));

        Assert.Equal(9, group.Faces.Count);
        Assert.All(group.Faces, f => Assert.NotNull(f.Person));
        Assert.Equal(9, group.Faces.Select(f => f.Person!.Name).Distinct().Count());
        foreach (var face in group.Faces)
        {
            // Each name lands on the face inside the region its crop was cut from.
            var region = Region("f16" + face.Person!.Name[^1]);
            var (cx, cy) = ((face.Face.Box.XMin + face.Face.Box.XMax) / 2, (face.Face.Box.YMin + face.Face.Box.YMax) / 2);
            Assert.InRange(cx, region[2], region[2] + region[0]);
            Assert.InRange(cy, region[3], region[3] + region[1]);
            Assert.InRange(face.Similarity, 0.7f, 1f);
        }

        var stranger = await People.RecognizeAsync(null, Crop("f13a"));
        var face13 = Assert.Single(stranger.Faces);
        Assert.Null(face13.Person);
        Assert.InRange(face13.Similarity, 0f, 0.7f);
    }

    [Fact]
    public async Task More_than_20_photos_at_once_or_past_100_faces_a_person_are_refused_before_anything_is_stored()
    {
        var crop = new FaceSample("image", Crop("f16a"));
        var crowd = Enumerable.Repeat(crop, KnownPeople.MaxImagesPerRequest + 1).ToList();
        var tooMany = await Assert.ThrowsAsync<Iris.Core.Tasks.InvalidParameterException>(
            () => People.RegisterAsync(null, "crowd", crowd, FaceChoice.Only, addToExisting: false));
        Assert.Contains("at most 20 images", tooMany.Message);
        Assert.Empty(await People.ListAsync(null));

        // 99 faces through the store (no need to embed 98 photos): one more fits, two do not, by either door.
        var person = await People.RegisterAsync(null, "often seen", [crop], FaceChoice.Only, addToExisting: false);
        var model = _models.Get<FaceEmbedder>().Defaults.Model;
        var face = (await _store.FacesAsync("", model, CancellationToken.None)).Single().Descriptor;
        await _store.AddFacesAsync("", "often seen", model, Enumerable.Repeat(face, 98).ToList(), CancellationToken.None);
        var full = await Assert.ThrowsAsync<Iris.Core.Tasks.InvalidParameterException>(() => People.AddFacesAsync(null, person.Id, [crop, crop], FaceChoice.Only));
        Assert.Contains("limit of 100", full.Message);
        await Assert.ThrowsAsync<Iris.Core.Tasks.InvalidParameterException>(() => People.RegisterAsync(null, "often seen", [crop, crop], FaceChoice.Only, addToExisting: true));
        Assert.Equal(100, (await People.AddFacesAsync(null, person.Id, [crop], FaceChoice.Only)).Faces);
    }

    [Fact]
    public async Task A_photo_without_a_face_registers_nothing_and_says_so()
    {
        var e = await Assert.ThrowsAsync<NoFaceFoundException>(() =>
            People.RegisterAsync(null, "nobody", [new FaceSample("image1", Crop("f16a")), new FaceSample("image2", Photo("dog.jpg"))], FaceChoice.Only, false));
        Assert.Equal("image2", e.Field);
        Assert.Contains("No face was found in 'image2'", e.Message);
        Assert.Empty(await People.ListAsync(null));
    }

    [Fact]
    public async Task A_group_photo_registers_only_when_the_caller_says_which_face()
    {
        var group = new FaceSample("image", Photo("faces-13.jpg"));
        var several = await Assert.ThrowsAsync<SeveralFacesException>(() => People.RegisterAsync(null, "someone", [group], FaceChoice.Only, false));
        Assert.Contains("shows 2 faces", several.Message);
        await Assert.ThrowsAsync<FaceIndexOutOfRangeException>(() => People.RegisterAsync(null, "someone", [group], new FaceChoice(Index: 5), false));
        Assert.Empty(await People.ListAsync(null));

        var largest = await People.RegisterAsync(null, "largest", [group], new FaceChoice(Largest: true), false);
        var second = await People.RegisterAsync(null, "second", [group], new FaceChoice(Index: 1), false);
        Assert.Equal(1, largest.Faces);
        var recognised = await People.RecognizeAsync(null, Photo("faces-13.jpg"));
        Assert.Equal(["largest", "second"], recognised.Faces.Select(f => f.Person?.Name ?? "unknown").Order().ToArray());
    }

    [Fact]
    public async Task People_are_listed_renamed_given_more_photos_and_deleted()
    {
        var ann = await People.RegisterAsync(null, "  Ann ", [new FaceSample("image", Crop("f16a"))], FaceChoice.Only, false);
        Assert.Equal("Ann", ann.Name);
        var bob = await People.RegisterAsync(null, "Bob", [new FaceSample("image1", Crop("f16b"))], FaceChoice.Only, false);
        await Assert.ThrowsAsync<PersonNameTakenException>(() => People.RegisterAsync(null, "Bob", [new FaceSample("image", Crop("f16c"))], FaceChoice.Only, false));
        // DeepStack's register adds to an existing userid.
        Assert.Equal(2, (await People.RegisterAsync(null, "Bob", [new FaceSample("image", Crop("f16b"))], FaceChoice.Only, addToExisting: true)).Faces);
        Assert.Equal(3, (await People.AddFacesAsync(null, bob.Id, [new FaceSample("image", Crop("f16b"))], FaceChoice.Only)).Faces);

        await Assert.ThrowsAsync<PersonNameTakenException>(() => People.RenameAsync(null, ann.Id, "Bob"));
        Assert.Equal("Anna", (await People.RenameAsync(null, ann.Id, "Anna")).Name);
        Assert.Equal(["Anna", "Bob"], (await People.ListAsync(null)).Select(p => p.Name).ToArray());

        await People.DeleteAsync(null, bob.Id);
        await Assert.ThrowsAsync<UnknownPersonException>(() => People.DeleteAsync(null, bob.Id));
        await Assert.ThrowsAsync<UnknownPersonException>(() => People.DeleteAsync(null, "Bob"));
        await Assert.ThrowsAsync<UnknownPersonException>(() => People.RenameAsync(null, Guid.NewGuid(), "X"));
        await People.DeleteAsync(null, "Anna");
        Assert.Empty(await People.ListAsync(null));
    }

    [Fact]
    public async Task Each_owner_has_their_own_people_with_the_same_names_and_recognises_only_their_own()
    {
        var alices = await People.RegisterAsync("key:alice", "Ann", [new FaceSample("image", Crop("f16a"))], FaceChoice.Only, false);
        var bobs = await People.RegisterAsync("key:bob", "Ann", [new FaceSample("image", Crop("f16b"))], FaceChoice.Only, false);
        // DeepStack's register adds to the caller's own person of that name, never to another owner's.
        Assert.Equal(1, (await People.RegisterAsync(null, "Ann", [new FaceSample("image", Crop("f16c"))], FaceChoice.Only, addToExisting: true)).Faces);
        Assert.NotEqual(alices.Id, bobs.Id);

        Assert.Equal([alices.Id], (await People.ListAsync("key:alice")).Select(p => p.Id).ToArray());
        Assert.Equal([bobs.Id], (await People.ListAsync("key:bob")).Select(p => p.Id).ToArray());
        await Assert.ThrowsAsync<UnknownPersonException>(() => People.GetAsync("key:bob", alices.Id));
        await Assert.ThrowsAsync<UnknownPersonException>(() => People.RenameAsync("key:bob", alices.Id, "Mallory"));
        await Assert.ThrowsAsync<UnknownPersonException>(() => People.DeleteAsync("key:bob", alices.Id));
        await Assert.ThrowsAsync<UnknownPersonException>(() => People.AddFacesAsync("key:bob", alices.Id, [new FaceSample("image", Crop("f16b"))], FaceChoice.Only));
        Assert.Equal("Ann", (await People.GetAsync("key:alice", alices.Id)).Name);

        // Alice's Ann is person a of the group photo: only Alice's recognition names that face.
        var forAlice = await People.RecognizeAsync("key:alice", Photo("faces-16.jpg"));
        Assert.Equal([alices.Id], forAlice.Faces.Where(f => f.Person is not null).Select(f => f.Person!.Id).ToArray());
        var forBob = await People.RecognizeAsync("key:bob", Photo("faces-16.jpg"));
        Assert.Equal([bobs.Id], forBob.Faces.Where(f => f.Person is not null).Select(f => f.Person!.Id).ToArray());

        await People.DeleteAsync("key:bob", "Ann");
        Assert.Empty(await People.ListAsync("key:bob"));
        Assert.Single(await People.ListAsync("key:alice"));
    }

    [Fact]
    public async Task Match_compares_the_largest_faces_of_two_photos()
    {
        var same = await People.MatchAsync(new FaceSample("image1", Crop("f16c")), new FaceSample("image2", Photo("faces-16.jpg")));
        var different = await People.MatchAsync(new FaceSample("image1", Crop("f16c")), new FaceSample("image2", Crop("f13b")));
        Assert.InRange(different.Similarity, 0f, 0.7f);
        Assert.InRange(same.Similarity, -1f, 1f);
        await Assert.ThrowsAsync<NoFaceFoundException>(() => People.MatchAsync(new FaceSample("image1", Crop("f16c")), new FaceSample("image2", Photo("dog.jpg"))));
    }
}

public sealed class SqliteKnownPeopleTests : KnownPeopleContractTests, IDisposable
{
    private readonly TempDirectory _directory = new();

    protected override Task<IKnownPeopleStore> CreateStoreAsync() =>
        Task.FromResult<IKnownPeopleStore>(new SqliteKnownPeopleStore(new SqliteJobDatabase(_directory.File("jobs.db"))));

    public void Dispose() => _directory.Dispose();
}

public sealed class PostgresKnownPeopleTests : KnownPeopleContractTests
{
    private string _database = "";

    protected override async Task<IKnownPeopleStore> CreateStoreAsync()
    {
        _database = await TestServices.CreateDatabaseAsync();
        return new PostgresKnownPeopleStore(_database);
    }

    protected override Task DropStoreAsync() => TestServices.DropDatabaseAsync(_database);
}

/// <summary>
/// The measurements behind Faces:RecognitionThreshold (README, "Face recognition"): same-person similarities (each
/// reference crop against its own face in the group photo it was cut from) and different-person similarities (every
/// pair of faces within one photo, which are different people, and each crop against the other faces of its photo and
/// against the faces of the other photos).
/// </summary>
public sealed class FaceSimilarityCalibrationTests(ITestOutputHelper output) : IDisposable
{
    private readonly MirrorModels _models = new();

    [Fact]
    public async Task Same_person_similarities_stay_above_the_threshold_and_different_people_below_it()
    {
        var embedder = _models.Get<FaceEmbedder>();
        var photos = new Dictionary<string, FaceEmbeddingResult>();
        foreach (var name in new[] { "faces-2.jpg", "faces-13.jpg", "faces-16.jpg", "faces-19.jpg" })
            photos[name] = await embedder.EmbedAsync(File.ReadAllBytes(TestPaths.RealImage(name)));
        var same = new List<float>();
        var different = new List<float>();
        // Faces of one photo are different people.
        foreach (var photo in photos.Values)
            for (var i = 0; i < photo.Faces.Count; i++)
                for (var j = i + 1; j < photo.Faces.Count; j++)
                    different.Add(FaceDescriptors.Similarity(photo.Faces[i].Description.Descriptor, photo.Faces[j].Description.Descriptor));
        var crops = Directory.GetFiles(FaceResTests.RealModels, "face-f1*.png").Where(f => !f.EndsWith("-224.png", StringComparison.Ordinal)).Order().ToList();
        foreach (var crop in crops)
        {
            var face = Assert.Single((await embedder.EmbedAsync(File.ReadAllBytes(crop))).Faces).Description.Descriptor;
            var source = Path.GetFileName(crop).StartsWith("face-f13", StringComparison.Ordinal) ? "faces-13.jpg" : "faces-16.jpg";
            var own = photos[source].Faces.Select(f => FaceDescriptors.Similarity(face, f.Description.Descriptor)).OrderDescending().ToList();
            same.Add(own[0]);
            different.AddRange(own.Skip(1));
        }
        output.WriteLine($"same person ({same.Count}): min {same.Min():F3} mean {same.Average():F3} max {same.Max():F3}");
        output.WriteLine($"different people ({different.Count}): min {different.Min():F3} mean {different.Average():F3} max {different.Max():F3}");
        foreach (var (label, values) in new[] { ("same", same), ("different", different) })
            output.WriteLine(label + ": " + string.Join(" ", Enumerable.Range(0, 10).Select(b =>
                $"{b / 10.0:F1}–{(b + 1) / 10.0:F1}:{values.Count(v => v >= b / 10f && v < (b + 1) / 10f)}")));

        Assert.Equal(11, same.Count);
        Assert.All(same, s => Assert.True(s >= 0.7f, $"same-person similarity {s:F3} is below the 0.7 threshold"));
        Assert.All(different, d => Assert.True(d < 0.7f, $"different-person similarity {d:F3} reaches the 0.7 threshold"));
    }

    public void Dispose() => _models.Dispose();
}
