using System.Net;
using System.Text.Json;
using Iris.Tests.Support;
using static Iris.Tests.Http.KnownPeopleApiTests;

namespace Iris.Tests.Http;

/// <summary>
/// With access control on, known people are their owner's, like jobs and the library: two API keys register the same
/// name, and neither sees, changes nor recognises the other's people, through /v1/faces/… nor DeepStack's routes.
/// </summary>
public sealed class KnownPeopleAccessTests : IAsyncLifetime
{
    private const string AliceKey = "alice-faces-key-0123456789";
    private const string BobKey = "bob-faces-key-0123456789";
    private IrisTestHost _host = null!;

    public async Task InitializeAsync() => _host = await IrisTestHost.StartAsync(new Dictionary<string, string?>
    {
        ["Auth:ApiKeys:alice"] = AliceKey,
        ["Auth:ApiKeys:bob"] = BobKey,
    });

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpMethod method, string url, string? key, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, url) { Content = content };
        if (key is not null) request.Headers.Add("X-Api-Key", key);
        using var response = await _host.Client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, body.Length == 0 ? default : JsonDocument.Parse(body).RootElement.Clone());
    }

    private async Task<string[]> NamesAsync(string key) =>
        (await SendAsync(HttpMethod.Get, "/v1/faces/people", key)).Body.GetProperty("people").EnumerateArray()
            .Select(p => p.GetProperty("id").GetString()!).ToArray();

    private async Task<string[]> RecognisedAsync(string key)
    {
        var (status, body) = await SendAsync(HttpMethod.Post, "/v1/faces/recognize", key, Form(("image", Photo("faces-16.jpg"))));
        Assert.Equal(HttpStatusCode.OK, status);
        return body.GetProperty("faces").EnumerateArray().Where(f => f.GetProperty("person").ValueKind != JsonValueKind.Null)
            .Select(f => f.GetProperty("person").GetProperty("id").GetString()!).ToArray();
    }

    [Fact]
    public async Task Two_api_keys_register_the_same_name_and_neither_sees_nor_recognises_the_others_people()
    {
        var (aliceStatus, alices) = await SendAsync(HttpMethod.Post, "/v1/faces/people", AliceKey, Form(("name", new StringContent("Ann")), ("image", Crop("f16a"))));
        Assert.Equal(HttpStatusCode.Created, aliceStatus);
        var (bobStatus, bobs) = await SendAsync(HttpMethod.Post, "/v1/faces/people", BobKey, Form(("name", new StringContent("Ann")), ("image", Crop("f16b"))));
        Assert.Equal(HttpStatusCode.Created, bobStatus);
        var aliceId = alices.GetProperty("id").GetString()!;
        var bobId = bobs.GetProperty("id").GetString()!;
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(HttpMethod.Get, "/v1/faces/people", null)).Status);

        Assert.Equal([aliceId], await NamesAsync(AliceKey));
        Assert.Equal([bobId], await NamesAsync(BobKey));
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, $"/v1/faces/people/{aliceId}", BobKey)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Patch, $"/v1/faces/people/{aliceId}", BobKey,
            new StringContent("""{"name": "Mallory"}""", System.Text.Encoding.UTF8, "application/json"))).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Post, $"/v1/faces/people/{aliceId}/faces", BobKey, Form(("image", Crop("f16b"))))).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Delete, $"/v1/faces/people/{aliceId}", BobKey)).Status);

        // Both Anns are faces of the group photo; each caller's recognition names only their own.
        Assert.Equal([aliceId], await RecognisedAsync(AliceKey));
        Assert.Equal([bobId], await RecognisedAsync(BobKey));

        // DeepStack's clients send the key as the api_key form field; a userid is a name among the caller's own people.
        var (_, list) = await SendAsync(HttpMethod.Post, "/v1/vision/face/list", null, Form(("api_key", new StringContent(BobKey))));
        Assert.Equal(["Ann"], list.GetProperty("faces").EnumerateArray().Select(f => f.GetString()!).ToArray());
        var (_, deepStack) = await SendAsync(HttpMethod.Post, "/v1/vision/face/recognize", null,
            Form(("api_key", new StringContent(BobKey)), ("image", Photo("faces-16.jpg"))));
        Assert.Equal(["Ann"], deepStack.GetProperty("predictions").EnumerateArray().Select(p => p.GetProperty("userid").GetString()!).Where(u => u != "unknown").ToArray());
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Post, "/v1/vision/face/delete", null,
            Form(("api_key", new StringContent(BobKey)), ("userid", new StringContent("Ann"))))).Status);
        Assert.Empty(await NamesAsync(BobKey));
        Assert.Equal([aliceId], await NamesAsync(AliceKey));
        Assert.Equal([aliceId], await RecognisedAsync(AliceKey));
    }
}
