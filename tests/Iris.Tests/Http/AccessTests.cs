using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Iris.Tests.Support;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Iris.Tests.Http;

/// <summary>API keys, JWTs, job ownership and rate limits on a real server with auth configured.</summary>
public sealed class AccessTests : IAsyncLifetime
{
    private const string AliceKey = "alice-key-0123456789";
    private const string BobKey = "bob-key-9876543210xyz";
    private static readonly byte[] JwtKey = RandomNumberGenerator.GetBytes(32);
    private readonly TempDirectory _data = new();
    private IrisTestHost _host = null!;

    public async Task InitializeAsync()
    {
        _host = await IrisTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Auth:ApiKeys:alice"] = AliceKey,
            // Bob's key is configured by its hash only.
            ["Auth:ApiKeys:bob"] = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(BobKey))),
            ["Auth:Jwt:SigningKey"] = Convert.ToBase64String(JwtKey),
            ["Auth:Jwt:Issuer"] = "iris-tests",
            ["Auth:Jwt:Audience"] = "iris",
            ["Jobs:Database"] = _data.File("jobs.db"),
            ["Jobs:InputDirectory"] = _data.File("inputs"),
            ["Jobs:Workers"] = "0",
        });
        await _host.WaitUntilReadyAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _data.Dispose();
    }

    private static MultipartFormDataContent Dog(params (string Name, string Value)[] fields)
    {
        var form = new MultipartFormDataContent { { new ByteArrayContent(File.ReadAllBytes(TestPaths.RealImage("dog.jpg"))), "image", "dog.jpg" } };
        foreach (var (name, value) in fields) form.Add(new StringContent(value), name);
        return form;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, HttpContent? content = null, string? apiKey = null, string? bearer = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        if (apiKey is not null) request.Headers.Add("X-Api-Key", apiKey);
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        return await _host.Client.SendAsync(request);
    }

    private static string Jwt(string? subject, byte[]? key = null, string audience = "iris", DateTime? expires = null, Dictionary<string, object>? claims = null) =>
        new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Claims = claims,
            Subject = new ClaimsIdentity(subject is null ? [new Claim("name", "nobody in particular")] : [new Claim("sub", subject)]),
            Issuer = "iris-tests",
            Audience = audience,
            IssuedAt = (expires ?? DateTime.UtcNow.AddMinutes(5)).AddMinutes(-10),
            NotBefore = (expires ?? DateTime.UtcNow.AddMinutes(5)).AddMinutes(-10),
            Expires = expires ?? DateTime.UtcNow.AddMinutes(5),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(key ?? JwtKey), SecurityAlgorithms.HmacSha256),
        });

    private static async Task AssertUnauthorizedAsync(HttpResponseMessage response, string detail)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(detail, JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString());
        Assert.Contains("Bearer", response.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task Without_a_caller_routes_answer_401_while_probes_metrics_and_the_api_reference_stay_open()
    {
        await AssertUnauthorizedAsync(await SendAsync(HttpMethod.Post, "/v1/detect", Dog()), "X-Api-Key");
        await AssertUnauthorizedAsync(await SendAsync(HttpMethod.Get, "/v1/jobs"), "X-Api-Key");
        foreach (var open in new[] { "/healthz", "/readyz", "/health", "/metrics", "/openapi/v1.json" })
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, open)).StatusCode);
    }

    [Fact]
    public async Task An_api_key_works_in_its_header_or_as_a_bearer_token_and_a_wrong_one_is_refused()
    {
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Post, "/v1/detect", Dog(), apiKey: AliceKey)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Post, "/v1/detect", Dog(), bearer: AliceKey)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Post, "/v1/detect", Dog(), apiKey: BobKey)).StatusCode);
        await AssertUnauthorizedAsync(await SendAsync(HttpMethod.Post, "/v1/detect", Dog(), apiKey: "not-a-key-at-all-1234"), "not valid");
    }

    [Fact]
    public async Task A_deepstack_client_authenticates_with_its_api_key_form_field()
    {
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Post, "/v1/vision/detection", Dog(("api_key", AliceKey)))).StatusCode);
        using var refused = await SendAsync(HttpMethod.Post, "/v1/vision/detection", Dog(("api_key", "wrong-key-0000000000")));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.False((await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("success").GetBoolean());
    }

    [Fact]
    public async Task A_malformed_form_on_a_deepstack_route_is_a_4xx_problem_with_or_without_a_key()
    {
        static HttpContent Garbage()
        {
            var content = new ByteArrayContent(Encoding.UTF8.GetBytes("garbage--abc"));
            content.Headers.TryAddWithoutValidation("Content-Type", "multipart/form-data; boundary=abc");
            return content;
        }
        await AssertUnauthorizedAsync(await SendAsync(HttpMethod.Post, "/v1/vision/detection", Garbage()), "no API key");
        using var withKey = await SendAsync(HttpMethod.Post, "/v1/vision/detection", Garbage(), apiKey: AliceKey);
        Assert.Equal(HttpStatusCode.BadRequest, withKey.StatusCode);
        Assert.Equal("application/problem+json", withKey.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_signed_jwt_is_accepted_and_an_expired_foreign_or_misaddressed_one_is_not()
    {
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Post, "/v1/detect", Dog(), bearer: Jwt("carol"))).StatusCode);
        await AssertUnauthorizedAsync(await SendAsync(HttpMethod.Post, "/v1/detect", Dog(), bearer: Jwt("carol", expires: DateTime.UtcNow.AddMinutes(-5))), "expired");
        await AssertUnauthorizedAsync(await SendAsync(HttpMethod.Post, "/v1/detect", Dog(), bearer: Jwt("carol", key: RandomNumberGenerator.GetBytes(32))), "signature");
        await AssertUnauthorizedAsync(await SendAsync(HttpMethod.Post, "/v1/detect", Dog(), bearer: Jwt("carol", audience: "someone-else")), "audience");
    }

    [Theory]
    [InlineData("refresh", true)]
    [InlineData("token_type", "refresh")]
    [InlineData("type", "refresh")]
    [InlineData("typ", "Refresh")]
    public async Task A_refresh_token_is_refused_with_401(string claim, object value)
    {
        var refresh = Jwt("carol", claims: new() { [claim] = value });
        await AssertUnauthorizedAsync(await SendAsync(HttpMethod.Get, "/v1/models", bearer: refresh), "refresh token");
    }

    [Fact]
    public async Task An_access_token_that_says_it_is_not_a_refresh_token_is_accepted()
    {
        var access = Jwt("carol", claims: new() { ["refresh"] = false, ["token_type"] = "access", ["typ"] = "Bearer" });
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "/v1/models", bearer: access)).StatusCode);
    }

    [Fact]
    public async Task A_job_belongs_to_its_caller_and_others_cannot_see_or_cancel_it()
    {
        using var submitted = await SendAsync(HttpMethod.Post, "/v1/jobs?tasks=detect", Dog(), apiKey: AliceKey);
        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        var id = (await submitted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, $"/v1/jobs/{id}", apiKey: AliceKey)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, $"/v1/jobs/{id}", apiKey: BobKey)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, $"/v1/jobs/{id}", bearer: Jwt("carol"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Delete, $"/v1/jobs/{id}", apiKey: BobKey)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, $"/api/v1/status/{id}", apiKey: BobKey)).StatusCode);

        var bobs = await (await SendAsync(HttpMethod.Get, "/v1/jobs", apiKey: BobKey)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.DoesNotContain(bobs.GetProperty("jobs").EnumerateArray(), j => j.GetProperty("id").GetString() == id);
        var alices = await (await SendAsync(HttpMethod.Get, "/v1/jobs", apiKey: AliceKey)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains(alices.GetProperty("jobs").EnumerateArray(), j => j.GetProperty("id").GetString() == id);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Delete, $"/v1/jobs/{id}", apiKey: AliceKey)).StatusCode);
    }

    private async Task<string> SubmitAsAliceKeyAsync()
    {
        using var submitted = await SendAsync(HttpMethod.Post, "/v1/jobs?tasks=detect", Dog(), apiKey: AliceKey);
        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        return (await submitted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    [Fact]
    public async Task A_signed_jwt_without_the_owner_claim_is_401_naming_the_claim_and_sees_no_job()
    {
        var id = await SubmitAsAliceKeyAsync();
        var ownerless = Jwt(subject: null);

        await AssertUnauthorizedAsync(await SendAsync(HttpMethod.Get, "/v1/jobs", bearer: ownerless), "'sub' claim");
        await AssertUnauthorizedAsync(await SendAsync(HttpMethod.Get, $"/v1/jobs/{id}", bearer: ownerless), "Auth:Jwt:OwnerClaim");
        await AssertUnauthorizedAsync(await SendAsync(HttpMethod.Get, $"/v1/jobs/{id}/events", bearer: ownerless), "'sub' claim");
        await AssertUnauthorizedAsync(await SendAsync(HttpMethod.Get, $"/api/v1/status/{id}", bearer: ownerless), "'sub' claim");
        await AssertUnauthorizedAsync(await SendAsync(HttpMethod.Post, "/v1/detect", Dog(), bearer: ownerless), "'sub' claim");
    }

    [Fact]
    public async Task An_api_key_and_a_jwt_with_the_same_name_are_different_owners()
    {
        var id = await SubmitAsAliceKeyAsync();
        var aliceToken = Jwt("alice");

        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, $"/v1/jobs/{id}", bearer: aliceToken)).StatusCode);
        var listed = await (await SendAsync(HttpMethod.Get, "/v1/jobs", bearer: aliceToken)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.DoesNotContain(listed.GetProperty("jobs").EnumerateArray(), j => j.GetProperty("id").GetString() == id);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, $"/v1/jobs/{id}", apiKey: AliceKey)).StatusCode);
    }

    [Fact]
    public async Task With_a_shared_owner_namespace_a_key_and_a_jwt_of_the_same_name_are_one_owner()
    {
        using var data = new TempDirectory();
        await using var shared = await IrisTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Auth:ApiKeys:alice"] = AliceKey,
            ["Auth:Jwt:SigningKey"] = Convert.ToBase64String(JwtKey),
            ["Auth:Jwt:Issuer"] = "iris-tests",
            ["Auth:Jwt:Audience"] = "iris",
            ["Auth:SharedOwnerNamespace"] = "true",
            ["Jobs:Database"] = data.File("jobs.db"),
            ["Jobs:InputDirectory"] = data.File("inputs"),
            ["Jobs:Workers"] = "0",
            ["Models:LoadOnStartup"] = "false",
        });
        var submit = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs?tasks=info") { Content = Dog() };
        submit.Headers.Add("X-Api-Key", AliceKey);
        using var submitted = await shared.Client.SendAsync(submit);
        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        var id = (await submitted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

        var read = new HttpRequestMessage(HttpMethod.Get, $"/v1/jobs/{id}");
        read.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Jwt("alice"));
        Assert.Equal(HttpStatusCode.OK, (await shared.Client.SendAsync(read)).StatusCode);
    }

    /// <summary>Alice and Bob by API key, with an image store and job database of the test's own (stored ids are content hashes).</summary>
    private static Task<IrisTestHost> StartWithOwnStoresAsync(TempDirectory data, int workers) => IrisTestHost.StartAsync(new Dictionary<string, string?>
    {
        ["Auth:ApiKeys:alice"] = AliceKey,
        ["Auth:ApiKeys:bob"] = BobKey,
        ["Storage:Directory"] = data.File("images"),
        ["Jobs:Database"] = data.File("jobs.db"),
        ["Jobs:InputDirectory"] = data.File("inputs"),
        ["Jobs:Workers"] = workers.ToString(),
        ["Jobs:PollIntervalMs"] = "50",
        ["Library:IndexTasks"] = "embed",
        ["Models:LoadOnStartup"] = "false",
    });

    private static async Task<HttpResponseMessage> SendWithKeyAsync(IrisTestHost host, HttpMethod method, string path, string key, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.Add("X-Api-Key", key);
        return await host.Client.SendAsync(request);
    }

    [Fact]
    public async Task Image_ids_name_only_the_callers_own_uploads_and_library_images_and_others_read_as_unknown()
    {
        using var data = new TempDirectory();
        await using var host = await StartWithOwnStoresAsync(data, workers: 0);
        Task<HttpResponseMessage> Send(HttpMethod method, string path, string key, HttpContent? content = null) => SendWithKeyAsync(host, method, path, key, content);
        async Task<string> IdOf(HttpResponseMessage response, HttpStatusCode status, string property)
        {
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(response.StatusCode == status, body.ToString());
            return property == "images" ? body.GetProperty("images")[0].GetProperty("image_id").GetString()! : body.GetProperty(property).GetString()!;
        }

        var upload = await IdOf(await Send(HttpMethod.Post, "/api/v1/upload", AliceKey, Dog()), HttpStatusCode.Created, "id");
        var flower = new MultipartFormDataContent { { new ByteArrayContent(File.ReadAllBytes(Path.Combine(FlowerReference.Folder, FlowerReference.Images[0].File))), "image", "flower.png" } };
        var library = await IdOf(await Send(HttpMethod.Post, "/v1/images", AliceKey, flower), HttpStatusCode.Accepted, "images");

        using (var alices = await Send(HttpMethod.Post, $"/v1/jobs?tasks=info&image_ids={upload},{library}", AliceKey))
            Assert.Equal(HttpStatusCode.Accepted, alices.StatusCode);
        foreach (var id in new[] { upload, library })
        {
            // Bob gets what an id nobody stored gets, so the answer does not tell him the image exists.
            using var bobs = await Send(HttpMethod.Post, $"/v1/jobs?tasks=info&image_ids={id}", BobKey);
            await JobsApiTests.ProblemAsync(bobs, HttpStatusCode.NotFound, $"No stored image has the id '{id}'");
        }
        // Uploading the same bytes makes them his too.
        Assert.Equal(upload, await IdOf(await Send(HttpMethod.Post, "/api/v1/upload", BobKey, Dog()), HttpStatusCode.Created, "id"));
        using (var now = await Send(HttpMethod.Post, $"/v1/jobs?tasks=info&image_ids={upload}", BobKey))
            Assert.Equal(HttpStatusCode.Accepted, now.StatusCode);
    }

    [Fact]
    public async Task A_transform_jobs_output_is_its_submitters_to_name_in_image_ids_and_nobody_elses()
    {
        using var data = new TempDirectory();
        await using var host = await StartWithOwnStoresAsync(data, workers: 1);
        Task<HttpResponseMessage> Send(HttpMethod method, string path, string key, HttpContent? content = null) => SendWithKeyAsync(host, method, path, key, content);

        using var submitted = await Send(HttpMethod.Post, "/v1/jobs?tasks=transform&ops=resize:w=32;format:png", AliceKey, Dog());
        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        var job = (await submitted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var deadline = DateTime.UtcNow.AddMinutes(1);
        JsonElement result;
        while (true)
        {
            using var read = await Send(HttpMethod.Get, $"/v1/jobs/{job}/result", AliceKey);
            if (read.StatusCode == HttpStatusCode.OK)
            {
                result = await read.Content.ReadFromJsonAsync<JsonElement>();
                break;
            }
            Assert.True(DateTime.UtcNow < deadline, $"the transform job did not finish: {(int)read.StatusCode}");
            await Task.Delay(100);
        }
        var output = result.GetProperty("transform").GetProperty("outputs")[0].GetProperty("id").GetString()!;

        using (var alices = await Send(HttpMethod.Post, $"/v1/jobs?tasks=info&image_ids={output}", AliceKey))
            Assert.Equal(HttpStatusCode.Accepted, alices.StatusCode);
        using var bobs = await Send(HttpMethod.Post, $"/v1/jobs?tasks=info&image_ids={output}", BobKey);
        await JobsApiTests.ProblemAsync(bobs, HttpStatusCode.NotFound, $"No stored image has the id '{output}'");
    }

    [Fact]
    public async Task Each_caller_gets_its_own_rate_limit_and_the_probes_have_none()
    {
        await using var limited = await IrisTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Auth:ApiKeys:alice"] = AliceKey,
            ["Auth:ApiKeys:bob"] = BobKey,
            ["RateLimit:PermitsPerMinute"] = "2",
            ["Models:LoadOnStartup"] = "false",
        });
        async Task<HttpResponseMessage> Info(string key)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/v1/info") { Content = Dog() };
            request.Headers.Add("X-Api-Key", key);
            return await limited.Client.SendAsync(request);
        }
        Assert.Equal(HttpStatusCode.OK, (await Info(AliceKey)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Info(AliceKey)).StatusCode);
        using var third = await Info(AliceKey);
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        Assert.Equal("application/problem+json", third.Content.Headers.ContentType?.MediaType);
        Assert.True(third.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        Assert.Contains("RateLimit:PermitsPerMinute", (await third.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
        // Bob has his own bucket; probes are never limited.
        Assert.Equal(HttpStatusCode.OK, (await Info(BobKey)).StatusCode);
        for (var i = 0; i < 5; i++) Assert.Equal(HttpStatusCode.OK, (await limited.Client.GetAsync("/healthz")).StatusCode);

        // Wrong keys are limited too, by address: guessing keys costs a bucket like any other traffic.
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            using var guess = await Info("not-a-key-" + i);
            statuses.Add(guess.StatusCode);
        }
        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
    }
}
