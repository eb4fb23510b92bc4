using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Iris.Tests.Faces;
using Iris.Tests.Support;

namespace Iris.Tests.Http;

/// <summary>Iris's own face recognition routes under /v1/faces/…, each test with a fresh server and registry.</summary>
public sealed class KnownPeopleApiTests : IAsyncLifetime
{
    private IrisTestHost _host = null!;
    private HttpClient Client => _host.Client;

    public async Task InitializeAsync() => _host = await IrisTestHost.StartAsync();
    public async Task DisposeAsync() => await _host.DisposeAsync();

    internal static ByteArrayContent Crop(string name) => new(File.ReadAllBytes(Path.Combine(FaceResTests.RealModels, $"face-{name}.png")));
    internal static ByteArrayContent Photo(string name) => new(File.ReadAllBytes(TestPaths.RealImage(name)));

    internal static MultipartFormDataContent Form(params (string Name, HttpContent Content)[] parts)
    {
        var form = new MultipartFormDataContent();
        foreach (var (name, content) in parts)
            if (content is StringContent) form.Add(content, name);
            else form.Add(content, name, name + ".png");
        return form;
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode}: {body}");
        return body.Length == 0 ? default : JsonDocument.Parse(body).RootElement.Clone();
    }

    [Fact]
    public async Task Registered_people_are_named_in_the_group_photo_and_a_stranger_is_unknown()
    {
        foreach (var letter in "abcdefghi")
        {
            using var created = await Client.PostAsync("/v1/faces/people", Form(("name", new StringContent($"Person {letter}")), ("image", Crop($"f16{letter}"))));
            var person = await JsonAsync(created, HttpStatusCode.Created);
            Assert.Equal($"/v1/faces/people/{person.GetProperty("id").GetString()}", created.Headers.Location?.ToString());
            Assert.Equal(1, person.GetProperty("faces").GetInt32());
        }

        using var group = await Client.PostAsync("/v1/faces/recognize", Form(("image", Photo("faces-16.jpg"))));
        var recognised = await JsonAsync(group, HttpStatusCode.OK);
        var names = recognised.GetProperty("faces").EnumerateArray().Select(f => f.GetProperty("name").GetString()!).ToList();
        Assert.Equal(Enumerable.Range(0, 9).Select(i => $"Person {(char)('a' + i)}"), names.Order());
        Assert.Equal("faceres", recognised.GetProperty("model").GetString());
        Assert.Equal(0.7f, recognised.GetProperty("threshold").GetSingle());

        using var stranger = await Client.PostAsync("/v1/faces/recognize", Form(("image", Crop("f13a"))));
        var face = Assert.Single((await JsonAsync(stranger, HttpStatusCode.OK)).GetProperty("faces").EnumerateArray());
        Assert.Equal("unknown", face.GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Null, face.GetProperty("person").ValueKind);
    }

    [Fact]
    public async Task Bad_registrations_are_400s_that_name_the_problem_and_register_nothing()
    {
        using var noFace = await Client.PostAsync("/v1/faces/people", Form(("name", new StringContent("Dog")), ("image1", Crop("f16a")), ("image2", Photo("dog.jpg"))));
        var problem = await JsonAsync(noFace, HttpStatusCode.BadRequest);
        Assert.Equal("application/problem+json", noFace.Content.Headers.ContentType?.MediaType);
        Assert.Equal("No face found", problem.GetProperty("title").GetString());
        Assert.StartsWith("No face was found in 'image2'", problem.GetProperty("detail").GetString());

        using var group = await Client.PostAsync("/v1/faces/people", Form(("name", new StringContent("Group")), ("image", Photo("faces-13.jpg"))));
        var several = await JsonAsync(group, HttpStatusCode.BadRequest);
        Assert.Equal("Several faces", several.GetProperty("title").GetString());
        Assert.Contains("face_index", several.GetProperty("detail").GetString());

        using var noName = await Client.PostAsync("/v1/faces/people", Form(("image", Crop("f16a"))));
        Assert.Equal("name", (await JsonAsync(noName, HttpStatusCode.BadRequest)).GetProperty("parameter").GetString());

        using var noImage = await Client.PostAsync("/v1/faces/people", Form(("name", new StringContent("Nobody"))));
        await JsonAsync(noImage, HttpStatusCode.BadRequest);

        Assert.Empty((await Client.GetFromJsonAsync<JsonElement>("/v1/faces/people")).GetProperty("people").EnumerateArray());

        using var chosen = await Client.PostAsync("/v1/faces/people", Form(("name", new StringContent("Group")), ("image", Photo("faces-13.jpg")), ("largest", new StringContent("true"))));
        await JsonAsync(chosen, HttpStatusCode.Created);
    }

    [Fact]
    public async Task People_are_listed_renamed_and_deleted_and_an_unknown_person_is_a_404()
    {
        using var created = await Client.PostAsync("/v1/faces/people", Form(("name", new StringContent("Ann")), ("image", Crop("f16a"))));
        var id = (await JsonAsync(created, HttpStatusCode.Created)).GetProperty("id").GetString();
        using var taken = await Client.PostAsync("/v1/faces/people", Form(("name", new StringContent("Ann")), ("image", Crop("f16b"))));
        await JsonAsync(taken, HttpStatusCode.Conflict);
        using var more = await Client.PostAsync($"/v1/faces/people/{id}/faces", Form(("image", Crop("f16a"))));
        Assert.Equal(2, (await JsonAsync(more, HttpStatusCode.OK)).GetProperty("faces").GetInt32());

        using var renamed = await Client.PatchAsJsonAsync($"/v1/faces/people/{id}", new { name = "Anna" });
        Assert.Equal("Anna", (await JsonAsync(renamed, HttpStatusCode.OK)).GetProperty("name").GetString());
        var list = await Client.GetFromJsonAsync<JsonElement>("/v1/faces/people");
        Assert.Equal("Anna", Assert.Single(list.GetProperty("people").EnumerateArray()).GetProperty("name").GetString());

        using var deleted = await Client.DeleteAsync($"/v1/faces/people/{id}");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        using var again = await Client.DeleteAsync($"/v1/faces/people/{id}");
        Assert.Equal("Person not found", (await JsonAsync(again, HttpStatusCode.NotFound)).GetProperty("title").GetString());
        using var notAnId = await Client.DeleteAsync("/v1/faces/people/not-an-id");
        await JsonAsync(notAnId, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Embed_answers_a_normalised_descriptor_age_and_gender_per_face_and_match_compares_two_photos()
    {
        using var embed = await Client.PostAsync("/v1/faces/embed", Form(("image", Photo("faces-13.jpg"))));
        var faces = (await JsonAsync(embed, HttpStatusCode.OK)).GetProperty("faces").EnumerateArray().ToList();
        Assert.Equal(2, faces.Count);
        Assert.All(faces, f =>
        {
            var descriptor = f.GetProperty("descriptor").EnumerateArray().Select(v => v.GetSingle()).ToArray();
            Assert.Equal(1024, descriptor.Length);
            Assert.Equal(1f, descriptor.Sum(v => v * v), 3);
            Assert.Contains(f.GetProperty("gender").GetString(), new[] { "female", "male" });
            Assert.InRange(f.GetProperty("age").GetSingle(), 0, 100);
        });

        using var match = await Client.PostAsync("/v1/faces/match", Form(("image1", Crop("f16c")), ("image2", Crop("f13b"))));
        var answer = await JsonAsync(match, HttpStatusCode.OK);
        Assert.False(answer.GetProperty("same_person").GetBoolean());
        Assert.InRange(answer.GetProperty("similarity").GetSingle(), 0f, 0.7f);
    }
}
