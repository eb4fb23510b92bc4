using System.Net;
using System.Text.Json;
using Iris.Tests.Faces;
using Iris.Tests.Support;

namespace Iris.Tests.Facades;

/// <summary>
/// DeepStack's face recognition API as its clients call it. Shapes followed: DeepStack's documentation
/// (github.com/johnolafenwa/deepstack-docs src/face-recognition/index.rst and src/face-match/index.rst):
/// register answers <c>{"message": "face added", "success": true}</c> and a missing userid <c>{"error": "user id not specified", "success": false}</c>;
/// recognize answers <c>{"success": true, "predictions": [{"userid", "confidence", "x_min", "y_min", "x_max", "y_max"}]}</c>
/// with <c>userid: "unknown", confidence: 0</c> for a stranger and min_confidence 0.67 by default; list answers
/// <c>{"success": true, "faces": [...]}</c>; delete answers <c>{"message": "user deleted successfully", "success": true}</c>
/// (DeepQuestAI/DeepStackNodejs facerecognition.rst); match answers <c>{"similarity": 0.73975885, "success": true}</c>.
/// </summary>
public sealed class DeepStackFaceRecognitionTests : IAsyncLifetime
{
    private IrisTestHost _host = null!;
    private HttpClient Client => _host.Client;

    public async Task InitializeAsync() => _host = await IrisTestHost.StartAsync();
    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static MultipartFormDataContent Form(params (string Name, object Value)[] parts)
    {
        var form = new MultipartFormDataContent();
        foreach (var (name, value) in parts)
            if (value is string text) form.Add(new StringContent(text), name);
            else form.Add(new ByteArrayContent(File.ReadAllBytes((string)((FileInfo)value).FullName)), name, ((FileInfo)value).Name);
        return form;
    }

    private static FileInfo Crop(string name) => new(Path.Combine(FaceResTests.RealModels, $"face-{name}.png"));
    private static FileInfo Photo(string name) => new(TestPaths.RealImage(name));

    private async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(string path, HttpContent? content)
    {
        using var response = await Client.PostAsync(path, content);
        var body = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(body).RootElement.Clone());
    }

    [Fact]
    public async Task Register_recognize_list_delete_and_match_answer_deepstacks_shapes()
    {
        foreach (var letter in "abcdefghi")
        {
            var (status, body) = await PostAsync("/v1/vision/face/register", Form(("userid", $"user {letter}"), ("image1", Crop($"f16{letter}"))));
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("""{"success":true,"message":"face added"}""", body.GetRawText());
        }
        // A second photo for a userid adds to it, as in DeepStack.
        Assert.Equal(HttpStatusCode.OK, (await PostAsync("/v1/vision/face/register", Form(("userid", "user a"), ("image", Crop("f16a"))))).Status);

        var (_, recognised) = await PostAsync("/v1/vision/face/recognize", Form(("image", Photo("faces-16.jpg"))));
        Assert.True(recognised.GetProperty("success").GetBoolean());
        var predictions = recognised.GetProperty("predictions").EnumerateArray().ToList();
        Assert.Equal(9, predictions.Count);
        Assert.Equal(Enumerable.Range(0, 9).Select(i => $"user {(char)('a' + i)}"), predictions.Select(p => p.GetProperty("userid").GetString()).Order());
        Assert.All(predictions, p =>
        {
            Assert.InRange(p.GetProperty("confidence").GetSingle(), 0.67f, 1f);
            foreach (var edge in new[] { "x_min", "y_min", "x_max", "y_max" }) Assert.True(p.GetProperty(edge).TryGetInt32(out _));
        });

        var (_, stranger) = await PostAsync("/v1/vision/face/recognize", Form(("image", Crop("f13a"))));
        var unknown = Assert.Single(stranger.GetProperty("predictions").EnumerateArray());
        Assert.Equal("unknown", unknown.GetProperty("userid").GetString());
        Assert.Equal(0, unknown.GetProperty("confidence").GetSingle());

        var (_, list) = await PostAsync("/v1/vision/face/list", null);
        Assert.True(list.GetProperty("success").GetBoolean());
        Assert.Equal(9, list.GetProperty("faces").GetArrayLength());

        var (deleteStatus, deleted) = await PostAsync("/v1/vision/face/delete", Form(("userid", "user a")));
        Assert.Equal(HttpStatusCode.OK, deleteStatus);
        Assert.Equal("""{"success":true,"message":"user deleted successfully"}""", deleted.GetRawText());
        var (missingStatus, missing) = await PostAsync("/v1/vision/face/delete", Form(("userid", "user a")));
        Assert.Equal(HttpStatusCode.NotFound, missingStatus);
        Assert.False(missing.GetProperty("success").GetBoolean());

        var (_, match) = await PostAsync("/v1/vision/face/match", Form(("image1", Crop("f16c")), ("image2", Crop("f16c"))));
        Assert.True(match.GetProperty("success").GetBoolean());
        Assert.InRange(match.GetProperty("similarity").GetSingle(), 0.99f, 1.0001f);
    }

    [Fact]
    public async Task Register_refusals_keep_deepstacks_success_false_and_error_and_are_never_500()
    {
        var (status, body) = await PostAsync("/v1/vision/face/register", Form(("image", Crop("f16a"))));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.False(body.GetProperty("success").GetBoolean());
        Assert.Equal("user id not specified", body.GetProperty("error").GetString());

        (status, body) = await PostAsync("/v1/vision/face/register", Form(("userid", "dog"), ("image", Photo("dog.jpg"))));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.StartsWith("No face was found in 'image'", body.GetProperty("error").GetString());

        (status, body) = await PostAsync("/v1/vision/face/register", Form(("userid", "group"), ("image", Photo("faces-13.jpg"))));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("2 faces", body.GetProperty("error").GetString());

        (status, _) = await PostAsync("/v1/vision/face/register", Form(("userid", "group"), ("image", Photo("faces-13.jpg")), ("face_index", "1")));
        Assert.Equal(HttpStatusCode.OK, status);

        (status, body) = await PostAsync("/v1/vision/face/match", Form(("image1", Crop("f16a"))));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.False(body.GetProperty("success").GetBoolean());
    }
}
