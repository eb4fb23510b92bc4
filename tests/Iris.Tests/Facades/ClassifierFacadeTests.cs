using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using Iris.Core.Predictions;
using Iris.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Iris.Tests.Facades;

/// <summary>
/// The classifier service's clients (seed 004, RottenBot's frontend and scripts) against Iris: what they send is
/// transcribed from their Python, <c>requests.post(f"{url}/api/v1/inference/predict", files={"file": (name, f, type)},
/// params={"save_prediction": True, "user_uid": uid}, headers={"Authorization": f"Bearer {token}"})</c>, and what they
/// read is the seed's contract: the three fields, and <c>detail</c> on 400, 401, 422 and 500.
/// </summary>
public sealed class ClassifierFacadeTests(ClassifierServiceHost fixture) : IClassFixture<ClassifierServiceHost>
{
    private HttpClient Client => fixture.Host.Client;

    private static readonly Guid Alice = Guid.NewGuid();
    private static readonly Guid Bob = Guid.NewGuid();

    /// <summary>A minimal GIF: what the seed's README shows being refused.</summary>
    private static readonly byte[] Gif = Convert.FromBase64String("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==");

    private static HttpRequestMessage Predict(byte[] image, string fileName, string contentType, string? query, string? token)
    {
        var file = new ByteArrayContent(image);
        file.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/inference/predict" + (query is null ? "" : "?" + query))
        {
            Content = new MultipartFormDataContent { { file, "file", fileName } },
        };
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return request;
    }

    private static HttpRequestMessage PredictFlower(int index, Guid user, bool save, string? token) =>
        Predict(File.ReadAllBytes(Flower(index)), $"flower-{index:00}.png", "image/png",
            $"save_prediction={(save ? "True" : "False")}&user_uid={user}", token);

    private static string Flower(int index) => Path.Combine(TestPaths.Flowers, $"flower-{index:00}.png");

    private async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> SendAsync(HttpRequestMessage request)
    {
        var response = await Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone(), response);
    }

    [Fact]
    public async Task Predict_answers_the_seeds_three_fields_with_the_class_index_and_name_of_the_models_class_map()
    {
        var (status, body, _) = await SendAsync(PredictFlower(0, Alice, save: false, fixture.Token(Alice)));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["predicted_class", "predicted_class_name", "confidence"], body.EnumerateObject().Select(p => p.Name));
        // petal-color-reference.json: flower-00 is class 4 (purple), which this deployment's class map calls Banana__Healthy.
        Assert.Equal(4, body.GetProperty("predicted_class").GetInt32());
        Assert.Equal("Banana__Healthy", body.GetProperty("predicted_class_name").GetString());
        Assert.InRange(body.GetProperty("confidence").GetDouble(), 0.0, 1.0);
    }

    [Fact]
    public async Task Predict_gives_the_same_class_and_confidence_as_v1_classify_with_that_model()
    {
        var (_, facade, _) = await SendAsync(PredictFlower(3, Alice, save: false, fixture.Token(Alice)));
        using var native = new HttpRequestMessage(HttpMethod.Post, $"/v1/classify?model={ClassifierServiceHost.Model}&top_k=1")
        {
            Content = new ByteArrayContent(File.ReadAllBytes(Flower(3))) { Headers = { ContentType = new MediaTypeHeaderValue("image/png") } },
        };
        native.Headers.Authorization = new AuthenticationHeaderValue("Bearer", fixture.Token(Alice));
        var (status, classify, _) = await SendAsync(native);

        Assert.Equal(HttpStatusCode.OK, status);
        var top = classify.GetProperty("predictions")[0];
        Assert.Equal(top.GetProperty("class_index").GetInt32(), facade.GetProperty("predicted_class").GetInt32());
        Assert.Equal(top.GetProperty("label").GetString(), facade.GetProperty("predicted_class_name").GetString());
        Assert.Equal(top.GetProperty("confidence").GetDouble(), facade.GetProperty("confidence").GetDouble(), 3);
    }

    [Fact]
    public async Task A_jpeg_is_classified_too()
    {
        var (status, body, _) = await SendAsync(Predict(File.ReadAllBytes(TestPaths.RealImage("dog.jpg")), "dog.jpg", "image/jpeg",
            $"save_prediction=false&user_uid={Alice}", fixture.Token(Alice)));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(JsonValueKind.String, body.GetProperty("predicted_class_name").ValueKind);
    }

    [Fact]
    public async Task A_gif_is_refused_with_400_and_the_seeds_message_naming_its_declared_type_and_nothing_is_saved()
    {
        var user = Guid.NewGuid();
        var (status, body, response) = await SendAsync(Predict(Gif, "spinner.gif", "image/gif", $"save_prediction=true&user_uid={user}", fixture.Token(user)));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Invalid file type. Only JPEG, JPG, and PNG are supported. Got image/gif", body.GetProperty("detail").GetString());
        // Saving happens before the answer or not at all: nothing is pending and nothing is listed.
        Assert.Empty((await fixture.ListAsync(user)).Predictions);
        Assert.Equal(0, await fixture.Store.CountPendingAsync(CancellationToken.None));
    }

    [Fact]
    public async Task The_type_is_sniffed_from_the_content_so_a_gif_declared_as_png_is_refused_and_a_png_declared_as_octet_stream_is_accepted()
    {
        var (gifStatus, gif, _) = await SendAsync(Predict(Gif, "spinner.png", "image/png", $"user_uid={Alice}", fixture.Token(Alice)));
        Assert.Equal(HttpStatusCode.BadRequest, gifStatus);
        Assert.Equal("Invalid file type. Only JPEG, JPG, and PNG are supported. Got image/gif", gif.GetProperty("detail").GetString());

        var (pngStatus, _, _) = await SendAsync(Predict(File.ReadAllBytes(Flower(1)), "blob", "application/octet-stream", $"user_uid={Alice}", fixture.Token(Alice)));
        Assert.Equal(HttpStatusCode.OK, pngStatus);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("not-a-token")]
    [InlineData("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtYWxsb3J5In0.c2lnbmVkIGJ5IG5vYm9keQ")]
    public async Task No_or_a_bad_token_is_401_with_the_detail_Not_authenticated(string? token)
    {
        var (status, body, response) = await SendAsync(PredictFlower(0, Alice, save: true, token));

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Not authenticated", body.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_token_signed_with_another_secret_is_401_Not_authenticated()
    {
        var (status, body, _) = await SendAsync(PredictFlower(0, Alice, save: false, ClassifierServiceHost.Token(Alice, RandomNumberGenerator.GetBytes(32))));
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("Not authenticated", body.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_refresh_token_is_401_Not_authenticated()
    {
        var (status, body, _) = await SendAsync(PredictFlower(0, Alice, save: false, fixture.Token(Alice, refresh: true)));
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("Not authenticated", body.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_token_whose_jti_the_logout_wrote_to_the_blocklist_is_401_Not_authenticated_on_the_next_request()
    {
        var jti = Guid.NewGuid().ToString();
        var token = fixture.Token(Alice, jti);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(PredictFlower(0, Alice, save: false, token))).Status);

        await using var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(TestServices.Redis);
        await redis.GetDatabase().StringSetAsync(fixture.BlocklistPrefix + jti, "", TimeSpan.FromMinutes(5));

        var (status, body, _) = await SendAsync(PredictFlower(0, Alice, save: false, token));
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("Not authenticated", body.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("save_prediction=true", "missing", "query,user_uid", null)]
    [InlineData("save_prediction=true&user_uid=12345", "uuid_parsing", "query,user_uid", "12345")]
    [InlineData("save_prediction=perhaps&user_uid=7d0c6a52-5a3e-4f2b-9d0a-1f2e3d4c5b6a", "bool_parsing", "query,save_prediction", "perhaps")]
    public async Task A_malformed_query_is_FastAPIs_422_listing_what_is_wrong(string query, string type, string location, string? input)
    {
        var (status, body, _) = await SendAsync(Predict(File.ReadAllBytes(Flower(0)), "f.png", "image/png", query, fixture.Token(Alice)));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        var error = Assert.Single(body.GetProperty("detail").EnumerateArray());
        Assert.Equal(type, error.GetProperty("type").GetString());
        Assert.Equal(location.Split(','), error.GetProperty("loc").EnumerateArray().Select(l => l.GetString()));
        Assert.False(string.IsNullOrEmpty(error.GetProperty("msg").GetString()));
        Assert.Equal(input, error.GetProperty("input").GetString());
    }

    [Fact]
    public async Task A_request_without_the_file_field_is_422_body_file_Field_required()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/inference/predict?save_prediction=true&user_uid={Alice}")
        {
            Content = new MultipartFormDataContent { { new ByteArrayContent(File.ReadAllBytes(Flower(0))), "upload", "f.png" } },
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", fixture.Token(Alice));
        var (status, body, _) = await SendAsync(request);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        var error = Assert.Single(body.GetProperty("detail").EnumerateArray());
        Assert.Equal("missing", error.GetProperty("type").GetString());
        Assert.Equal(["body", "file"], error.GetProperty("loc").EnumerateArray().Select(l => l.GetString()));
        Assert.Equal("Field required", error.GetProperty("msg").GetString());
    }

    [Fact]
    public async Task A_saved_prediction_is_listed_with_the_seeds_columns_and_its_image_is_archived_byte_for_byte()
    {
        var user = Guid.NewGuid();
        var before = DateTimeOffset.UtcNow;
        var (status, answer, _) = await SendAsync(PredictFlower(2, user, save: true, fixture.Token(user)));
        Assert.Equal(HttpStatusCode.OK, status);

        var listed = Assert.Single((await fixture.WaitForListedAsync(user, 1)).EnumerateArray());
        Assert.Equal(["uid", "image_path", "predicted_class", "predicted_class_name", "confidence", "user_uid", "created_at"],
            listed.EnumerateObject().Select(p => p.Name));
        Assert.Equal(user, listed.GetProperty("user_uid").GetGuid());
        Assert.Equal(answer.GetProperty("predicted_class").GetInt32(), listed.GetProperty("predicted_class").GetInt32());
        Assert.Equal(answer.GetProperty("predicted_class_name").GetString(), listed.GetProperty("predicted_class_name").GetString());
        Assert.Equal(answer.GetProperty("confidence").GetDouble(), listed.GetProperty("confidence").GetDouble(), 5);
        Assert.InRange(listed.GetProperty("created_at").GetDateTimeOffset(), before.AddSeconds(-1), DateTimeOffset.UtcNow);
        var path = listed.GetProperty("image_path").GetString()!;
        Assert.Matches($"^predictions/{user}/[0-9]{{8}}T[0-9]{{12}}Z_[0-9a-f]{{32}}\\.png$", path);
        Assert.Equal(await File.ReadAllBytesAsync(Flower(2)), await File.ReadAllBytesAsync(Path.Combine(fixture.StorageDirectory, path)));
    }

    [Fact]
    public async Task Without_save_prediction_nothing_is_saved()
    {
        var user = Guid.NewGuid();
        var (status, _, _) = await SendAsync(PredictFlower(0, user, save: false, fixture.Token(user)));
        Assert.Equal(HttpStatusCode.OK, status);
        // Saving is recorded before the answer or not at all.
        Assert.Empty((await fixture.ListAsync(user)).Predictions);
        Assert.Equal(0, await fixture.Store.CountPendingAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_caller_lists_only_its_own_predictions_newest_first_page_by_page()
    {
        var user = Guid.NewGuid();
        foreach (var flower in new[] { 5, 6, 7 })
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(PredictFlower(flower, user, save: true, fixture.Token(Alice)))).Status);
        await fixture.WaitForListedAsync(user, 3, fixture.Token(Alice));

        var first = await GetAsync($"/v1/predictions?user_uid={user}&limit=2", fixture.Token(Alice));
        var second = await GetAsync($"/v1/predictions?user_uid={user}&limit=2&cursor={first.GetProperty("next_cursor").GetString()}", fixture.Token(Alice));
        var rows = first.GetProperty("predictions").EnumerateArray().Concat(second.GetProperty("predictions").EnumerateArray()).ToList();
        Assert.Equal(3, rows.Count);
        Assert.Equal(JsonValueKind.Null, second.GetProperty("next_cursor").ValueKind);
        var times = rows.Select(r => r.GetProperty("created_at").GetDateTimeOffset()).ToList();
        Assert.Equal(times.OrderDescending(), times);
        Assert.Equal(3, rows.Select(r => r.GetProperty("uid").GetGuid()).Distinct().Count());

        // Bob is another caller: the same user_uid shows him nothing, and his own list does not hold Alice's.
        Assert.Empty((await GetAsync($"/v1/predictions?user_uid={user}", fixture.Token(Bob))).GetProperty("predictions").EnumerateArray());
        Assert.DoesNotContain((await GetAsync("/v1/predictions?limit=1000", fixture.Token(Bob))).GetProperty("predictions").EnumerateArray(),
            r => r.GetProperty("user_uid").GetGuid() == user);
    }

    [Theory]
    [InlineData("user_uid=nope", "user_uid")]
    [InlineData("cursor=garbage", "cursor")]
    // A well-formed cursor whose time (900000000000000000 µs after 1970) is past year 9999.
    [InlineData("cursor=OTAwMDAwMDAwMDAwMDAwMDAwXzAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAw", "cursor")]
    [InlineData("limit=0", "limit")]
    public async Task The_history_refuses_bad_parameters_with_400_naming_them(string query, string parameter)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/predictions?" + query);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", fixture.Token(Alice));
        var (status, body, _) = await SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(parameter, body.GetProperty("parameter").GetString());
    }

    [Fact]
    public async Task The_hostile_image_corpus_gets_no_5xx_and_every_refusal_is_problem_json()
    {
        var failures = new List<string>();
        foreach (var (name, bytes) in Hardening.HostileImages.Corpus())
        {
            var (status, body, response) = await SendAsync(Predict(bytes, name, "image/png", $"save_prediction=false&user_uid={Alice}", fixture.Token(Alice)));
            if ((int)status >= 500 || ((int)status >= 400 && response.Content.Headers.ContentType?.MediaType != "application/problem+json"))
                failures.Add($"{name}: {(int)status} {body}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task Both_routes_are_in_the_OpenAPI_document_with_their_parameters()
    {
        var paths = JsonDocument.Parse(await Client.GetStringAsync("/openapi/v1.json")).RootElement.GetProperty("paths");
        var predict = paths.GetProperty("/api/v1/inference/predict").GetProperty("post");
        Assert.Equal("InferencePredict", predict.GetProperty("operationId").GetString());
        Assert.Equal(["user_uid", "save_prediction"], predict.GetProperty("parameters").EnumerateArray().Select(p => p.GetProperty("name").GetString()));
        Assert.Equal("ListPredictions", paths.GetProperty("/v1/predictions").GetProperty("get").GetProperty("operationId").GetString());
    }

    private async Task<JsonElement> GetAsync(string path, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var (status, body, _) = await SendAsync(request);
        Assert.True(status == HttpStatusCode.OK, $"{(int)status}: {body}");
        return body;
    }
}

/// <summary>
/// One server set up as the classifier service was: its own model with its class map (Predictions:Model), HS256
/// tokens with a shared secret (the old JWT_SECRET) checked against a Redis blocklist, the prediction history in the
/// default SQLite job database.
/// </summary>
public sealed class ClassifierServiceHost : IAsyncLifetime
{
    public const string Model = "produce-freshness";

    private static readonly byte[] Secret = RandomNumberGenerator.GetBytes(32);
    private readonly TempDirectory _data = new();

    /// <summary>This fixture's blocklist keys in the shared test Redis.</summary>
    public string BlocklistPrefix { get; } = $"iris-test-{Guid.NewGuid():N}:";

    public IrisTestHost Host { get; private set; } = null!;
    public string StorageDirectory => _data.File("blobs");
    public IPredictionStore Store => Host.App.Services.GetRequiredService<IPredictionStore>();

    public async Task InitializeAsync()
    {
        Host = await StartAsync(_data, new Dictionary<string, string?>
        {
            ["Auth:Jwt:SigningKey"] = Convert.ToBase64String(Secret),
            ["Auth:Jwt:OwnerClaim"] = "user.user_uid",
            ["Auth:Jwt:RevocationStore"] = "redis",
            ["Auth:Jwt:RevocationConnectionString"] = TestServices.Redis,
            ["Auth:Jwt:RevocationKeyPrefix"] = BlocklistPrefix,
        });
        await Host.WaitUntilReadyAsync();
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        _data.Dispose();
    }

    /// <summary>A server with the petal-color network installed as <see cref="Model"/> under a produce class map, storing in <paramref name="data"/>.</summary>
    public static async Task<IrisTestHost> StartAsync(TempDirectory data, IDictionary<string, string?> settings)
    {
        var folder = Directory.CreateDirectory(data.File(Path.Combine("models", Model))).FullName;
        if (!File.Exists(Path.Combine(folder, "model.onnx")))
        {
            File.Copy(Path.Combine(TestPaths.ModelMirror, "petal-color", "petal-color.onnx"), Path.Combine(folder, "model.onnx"));
            await File.WriteAllTextAsync(Path.Combine(folder, "manifest.json"), $$"""
                {
                  "name": "{{Model}}", "task": "classify", "version": "1", "description": "The old service's classifier, converted to ONNX",
                  "files": [ { "path": "model.onnx" } ],
                  "classifier": { "preset": "raw", "model": "model.onnx", "layout": "nhwc",
                    "classes": { "0": "Apple__Healthy", "1": "Apple__Rotten", "2": "Banana__Rotten", "3": "Pepper__Healthy", "4": "Banana__Healthy",
                                 "5": "Tomato__Rotten", "6": "Tomato__Healthy" } }
                }
                """);
        }
        var values = new Dictionary<string, string?>
        {
            ["Models:CacheDirectory"] = data.File("models"),
            ["Models:Enabled"] = Model,
            ["Predictions:Model"] = Model,
            ["Jobs:Database"] = data.File("jobs.db"),
            ["Jobs:InputDirectory"] = data.File("inputs"),
            ["Jobs:PollIntervalMs"] = "50",
            ["Storage:Directory"] = data.File("blobs"),
        };
        foreach (var (key, value) in settings) values[key] = value;
        return await IrisTestHost.StartAsync(values);
    }

    public string Token(Guid user, string? jti = null, bool refresh = false) => Token(user, Secret, jti, refresh);

    /// <summary>
    /// A token as the old AuthService mints them (PyJWT, HS256 with JWT_SECRET): the user inside a <c>user</c> object,
    /// a <c>jti</c> its logout writes to the Redis blocklist, a <c>refresh</c> flag.
    /// </summary>
    public static string Token(Guid user, byte[] secret, string? jti = null, bool refresh = false) =>
        new JsonWebTokenHandler().CreateToken(
            JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["user"] = new { email = "grower@example.com", user_uid = user.ToString() },
                ["exp"] = DateTimeOffset.UtcNow.AddMinutes(60).ToUnixTimeSeconds(),
                ["jti"] = jti ?? Guid.NewGuid().ToString(),
                ["refresh"] = refresh,
            }),
            new SigningCredentials(new SymmetricSecurityKey(secret), SecurityAlgorithms.HmacSha256));

    public Task<PredictionPage> ListAsync(Guid user) =>
        Store.ListAsync(new PredictionQuery(user, null, null, 100), CancellationToken.None);

    /// <summary>The user's listed predictions once there are <paramref name="count"/> (they are listed once archived, in the background).</summary>
    public Task<JsonElement> WaitForListedAsync(Guid user, int count, string? token = null) =>
        WaitForListedAsync(Host.Client, user, count, token ?? Token(user));

    public static async Task<JsonElement> WaitForListedAsync(HttpClient client, Guid user, int count, string? token, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/predictions?user_uid={user}");
            if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await client.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {body}");
            var predictions = JsonDocument.Parse(body).RootElement.GetProperty("predictions").Clone();
            if (predictions.GetArrayLength() >= count) return predictions;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{predictions.GetArrayLength()} of {count} predictions listed: {body}");
            await Task.Delay(50);
        }
    }
}
