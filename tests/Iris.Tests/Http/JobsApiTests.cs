using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Iris.Jobs;
using Iris.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Iris.Tests.Http;

/// <summary>The job routes on the real server with the embedded store and queue, running real detection.</summary>
public sealed class JobsApiTests : IAsyncLifetime
{
    private const string Secret = "test-webhook-secret";
    private readonly TempDirectory _data = new();
    private IrisTestHost _host = null!;
    private HttpClient Client => _host.Client;
    private static byte[] Dog => File.ReadAllBytes(TestPaths.RealImage("dog.jpg"));

    public async Task InitializeAsync()
    {
        _host = await StartAsync(workers: 1);
        await _host.WaitUntilReadyAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _data.Dispose();
    }

    private Task<IrisTestHost> StartAsync(int workers, Dictionary<string, string?>? extra = null, string? name = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Jobs:Database"] = _data.File((name ?? "main") + ".db"),
            ["Jobs:InputDirectory"] = _data.File((name ?? "main") + "-inputs"),
            ["Jobs:Workers"] = workers.ToString(),
            ["Jobs:PollIntervalMs"] = "50",
            ["Jobs:RetryBaseDelaySeconds"] = "0.1",
            ["Jobs:WebhookSecret"] = Secret,
            ["Jobs:WebhookBaseDelaySeconds"] = "0.1",
            // The receivers of these tests listen on 127.0.0.1.
            ["Jobs:WebhookAllowPrivateNetworks"] = "true",
        };
        foreach (var pair in extra ?? []) settings[pair.Key] = pair.Value;
        return IrisTestHost.StartAsync(settings);
    }

    private static MultipartFormDataContent Form(params (byte[] Bytes, string Name)[] files)
    {
        var form = new MultipartFormDataContent();
        foreach (var (bytes, name) in files) form.Add(new ByteArrayContent(bytes), "image", name);
        return form;
    }

    private static async Task<JsonElement> WaitFinishedAsync(HttpClient client, string id)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var job = await client.GetFromJsonAsync<JsonElement>($"/v1/jobs/{id}");
            if (job.GetProperty("status").GetString() is "done" or "failed" or "canceled") return job;
            if (DateTime.UtcNow > deadline) throw new TimeoutException(job.ToString());
            await Task.Delay(50);
        }
    }

    internal static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode status, string detailContains)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.Contains(detailContains, problem.GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);
        return problem;
    }

    [Fact]
    public async Task Submitted_image_gets_a_job_whose_result_is_the_detect_document()
    {
        using var response = await Client.PostAsync("/v1/jobs?tasks=detect&min_confidence=0.5", Form((Dog, "dog.jpg")));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var submitted = await response.Content.ReadFromJsonAsync<JsonElement>();
        var id = submitted.GetProperty("id").GetString()!;
        Assert.Equal($"/v1/jobs/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal("queued", submitted.GetProperty("status").GetString());

        var job = await WaitFinishedAsync(Client, id);
        Assert.Equal("done", job.GetProperty("status").GetString());
        Assert.Equal("yolox-nano", job.GetProperty("generated_by")[0].GetProperty("name").GetString());
        Assert.Equal("0.5", job.GetProperty("parameters").GetProperty("min_confidence").GetString());

        using var result = await Client.GetAsync($"/v1/jobs/{id}/result");
        Assert.Equal(HttpStatusCode.OK, result.StatusCode);
        var document = await result.Content.ReadFromJsonAsync<JsonElement>();
        var objects = document.GetProperty("detect").GetProperty("objects").EnumerateArray().ToList();
        Assert.Contains(objects, o => o.GetProperty("label").GetString() == "dog");
        Assert.All(objects, o => Assert.True(o.GetProperty("confidence").GetSingle() >= 0.5f));

        // The same document the synchronous route returns, timings aside.
        var direct = await (await Client.PostAsync("/v1/detect?min_confidence=0.5", Form((Dog, "dog.jpg")))).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(direct.GetProperty("objects").ToString(), document.GetProperty("detect").GetProperty("objects").ToString());
    }

    [Fact]
    public async Task Several_files_in_one_request_make_a_batch_of_jobs()
    {
        using var response = await Client.PostAsync("/v1/jobs", Form((Dog, "a.jpg"), (Dog, "b.jpg"), (Dog, "c.jpg")));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var submitted = await response.Content.ReadFromJsonAsync<JsonElement>();
        var ids = submitted.GetProperty("ids").EnumerateArray().Select(i => i.GetString()!).ToList();
        Assert.Equal(3, ids.Count);
        var batch = submitted.GetProperty("batch_id").GetString();
        Assert.Equal($"/v1/jobs?batch_id={batch}", response.Headers.Location?.OriginalString);
        Assert.Equal(["a.jpg", "b.jpg", "c.jpg"], submitted.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("input_name").GetString()));
        foreach (var id in ids) Assert.Equal("done", (await WaitFinishedAsync(Client, id)).GetProperty("status").GetString());

        var listed = await Client.GetFromJsonAsync<JsonElement>($"/v1/jobs?batch_id={batch}&status=done");
        Assert.Equal(ids.AsEnumerable().Reverse(), listed.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task Unknown_task_is_refused_with_the_list_of_valid_tasks()
    {
        using var response = await Client.PostAsync("/v1/jobs?tasks=detect,telepathy", Form((Dog, "dog.jpg")));
        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest, "Unknown task 'telepathy'; valid tasks: classify, describe, detect, faces, info, moderate, ocr, transform");
        Assert.Equal("tasks", problem.GetProperty("parameter").GetString());
    }

    [Fact]
    public async Task Bad_submissions_are_refused_before_anything_is_queued()
    {
        await ProblemAsync(await Client.PostAsync("/v1/jobs", Form((Encoding.UTF8.GetBytes("plain text, not pixels"), "notes.txt"))),
            HttpStatusCode.UnsupportedMediaType, "not an image");
        await ProblemAsync(await Client.PostAsync("/v1/jobs?min_confidence=7", Form((Dog, "dog.jpg"))), HttpStatusCode.BadRequest, "min_confidence");
        var unrequested = await ProblemAsync(await Client.PostAsync("/v1/jobs?tasks=detect&classify_top_k=abc", Form((Dog, "dog.jpg"))), HttpStatusCode.BadRequest, "classify_top_k");
        Assert.Equal("Invalid job request", unrequested.GetProperty("title").GetString());
        Assert.Equal("classify_top_k", unrequested.GetProperty("parameter").GetString());
        await ProblemAsync(await Client.PostAsync("/v1/jobs?model=nope", Form((Dog, "dog.jpg"))), HttpStatusCode.BadRequest, "nope");
        await ProblemAsync(await Client.PostAsync("/v1/jobs?callback_url=ftp://x", Form((Dog, "dog.jpg"))), HttpStatusCode.BadRequest, "callback_url");
        await ProblemAsync(await Client.PostAsync("/v1/jobs?image_ids=a,b", new StringContent("")), HttpStatusCode.BadRequest, "'a' is not an image id");
        await ProblemAsync(await Client.GetAsync("/v1/jobs?status=sleeping"), HttpStatusCode.BadRequest, "status must be one of");
        // Enum parsing would read a list as the OR of its values (processing|done = failed) and a number as a status.
        await ProblemAsync(await Client.GetAsync("/v1/jobs?status=processing,done"), HttpStatusCode.BadRequest, "status must be one of");
        await ProblemAsync(await Client.GetAsync("/v1/jobs?status=3"), HttpStatusCode.BadRequest, "status must be one of");
        // A parameter the framework binds still gets a detail that names it.
        await ProblemAsync(await Client.GetAsync("/v1/jobs?limit=abc"), HttpStatusCode.BadRequest, "limit");
        // Every job of a batch stores the parameters: a megabyte of them is refused, not copied into each job.
        using (var bulky = Form((Dog, "dog.jpg"), (Dog, "dog2.jpg")))
        {
            bulky.Add(new StringContent(new string('x', 1_000_000)), "note");
            var problem = await ProblemAsync(await Client.PostAsync("/v1/jobs", bulky), HttpStatusCode.BadRequest, "at most 65,536");
            Assert.Equal("note", problem.GetProperty("parameter").GetString());
        }
        await ProblemAsync(await Client.GetAsync("/v1/jobs/0123456789abcdef0123456789abcdef"), HttpStatusCode.NotFound, "no job");
        var queued = await Client.GetFromJsonAsync<JsonElement>("/v1/jobs?status=queued");
        Assert.Empty(queued.GetProperty("jobs").EnumerateArray());
    }

    [Fact]
    public async Task Corrupt_image_fails_at_once_without_retries()
    {
        var truncated = Dog[..(Dog.Length / 3)];
        using var response = await Client.PostAsync("/v1/jobs", Form((truncated, "broken.jpg")));
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var job = await WaitFinishedAsync(Client, id);
        Assert.Equal("failed", job.GetProperty("status").GetString());
        Assert.Equal(1, job.GetProperty("attempts").GetInt32());
        Assert.False(string.IsNullOrEmpty(job.GetProperty("error").GetString()));
        await ProblemAsync(await Client.GetAsync($"/v1/jobs/{id}/result"), HttpStatusCode.Conflict, "failed after 1 attempt");
    }

    [Fact]
    public async Task Repeated_idempotency_key_returns_the_original_job()
    {
        async Task<HttpResponseMessage> Post()
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs") { Content = Form((Dog, "dog.jpg")) };
            request.Headers.Add("Idempotency-Key", "upload-123");
            return await Client.SendAsync(request);
        }
        using var first = await Post();
        using var second = await Post();
        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        Assert.Equal((await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString(),
                     (await second.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString());
        Assert.Equal("true", second.Headers.GetValues("Idempotent-Replayed").Single());
    }

    [Fact]
    public async Task Events_stream_status_changes_until_the_job_finishes()
    {
        await using var host = await StartAsync(workers: 0, name: "events");
        var id = (await (await host.Client.PostAsync("/v1/jobs", Form((Dog, "dog.jpg")))).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        using var stream = await host.Client.GetAsync($"/v1/jobs/{id}/events", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", stream.Content.Headers.ContentType?.MediaType);
        var reading = stream.Content.ReadAsStringAsync();

        // The job only starts once a worker appears, after the stream has reported it queued.
        await Task.Delay(300);
        var worker = host.App.Services.GetRequiredService<Iris.Core.Jobs.JobWorker>();
        using var stop = new CancellationTokenSource();
        var running = worker.RunAsync(1, stop.Token);
        var text = await reading.WaitAsync(TimeSpan.FromSeconds(60));
        await stop.CancelAsync();
        await running;

        var statuses = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Where(e => e.Contains("event: status"))
            .Select(e => JsonDocument.Parse(e.Split('\n').Single(l => l.StartsWith("data: "))["data: ".Length..]).RootElement.GetProperty("status").GetString())
            .ToList();
        Assert.Equal("queued", statuses[0]);
        Assert.Equal("done", statuses[^1]);
        Assert.Equal(statuses.Count, statuses.Distinct().Count());
        // Each status event is numbered 1, 2, … so a reconnecting client can say where it was (Last-Event-ID).
        var ids = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Where(e => e.Contains("event: status"))
            .Select(e => e.Split('\n').Single(l => l.StartsWith("id: "))["id: ".Length..]).ToList();
        Assert.Equal(Enumerable.Range(1, statuses.Count).Select(i => i.ToString()), ids);
    }

    [Fact]
    public async Task Queued_job_can_be_canceled_and_retried_and_backpressure_answers_429()
    {
        await using var host = await StartAsync(workers: 0, new() { ["Jobs:MaxQueued"] = "2", ["Jobs:RetryAfterSeconds"] = "7" }, name: "apionly");
        var first = (await (await host.Client.PostAsync("/v1/jobs", Form((Dog, "1.jpg")))).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        await host.Client.PostAsync("/v1/jobs", Form((Dog, "2.jpg")));

        using var refused = await host.Client.PostAsync("/v1/jobs", Form((Dog, "3.jpg")));
        await ProblemAsync(refused, HttpStatusCode.TooManyRequests, "Jobs:MaxQueued");
        Assert.Equal(TimeSpan.FromSeconds(7), refused.Headers.RetryAfter?.Delta);

        using var pending = await host.Client.GetAsync($"/v1/jobs/{first}/result");
        Assert.Equal(HttpStatusCode.Accepted, pending.StatusCode);
        Assert.NotNull(pending.Headers.RetryAfter);

        using var canceled = await host.Client.DeleteAsync($"/v1/jobs/{first}");
        Assert.Equal("canceled", (await canceled.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        await ProblemAsync(await host.Client.GetAsync($"/v1/jobs/{first}/result"), HttpStatusCode.Conflict, "canceled");
        Assert.Equal(HttpStatusCode.Accepted, (await host.Client.PostAsync("/v1/jobs", Form((Dog, "3.jpg")))).StatusCode);

        // Re-submitting counts against the limit like a new submission.
        await ProblemAsync(await host.Client.PostAsync($"/v1/jobs/{first}/retry", null), HttpStatusCode.TooManyRequests, "MaxQueued");
    }

    [Fact]
    public async Task Failed_job_is_a_dead_letter_that_retry_resubmits()
    {
        // No mirror and no auto-pull: the model cannot load, a transient failure retried until the attempts run out.
        await using var host = await IrisTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Models:Mirror"] = null, ["Models:AutoPull"] = "false", ["Models:LoadOnStartup"] = "false",
            ["Jobs:Database"] = _data.File("dead.db"), ["Jobs:InputDirectory"] = _data.File("dead-inputs"),
            ["Jobs:RetryBaseDelaySeconds"] = "0.05", ["Jobs:PollIntervalMs"] = "50",
        }, withMirror: false);
        var id = (await (await host.Client.PostAsync("/v1/jobs", Form((Dog, "dog.jpg")))).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var failed = await WaitFinishedAsync(host.Client, id);
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        Assert.Equal(3, failed.GetProperty("attempts").GetInt32());
        Assert.Contains("not installed", failed.GetProperty("error").GetString());
        var deadLetters = await host.Client.GetFromJsonAsync<JsonElement>("/v1/jobs?status=failed");
        Assert.Equal(id, deadLetters.GetProperty("jobs")[0].GetProperty("id").GetString());

        using var retried = await host.Client.PostAsync($"/v1/jobs/{id}/retry", null);
        Assert.Equal(HttpStatusCode.Accepted, retried.StatusCode);
        Assert.Equal("queued", (await retried.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        Assert.Equal("failed", (await WaitFinishedAsync(host.Client, id)).GetProperty("status").GetString());
        await ProblemAsync(await host.Client.DeleteAsync($"/v1/jobs/{id}"), HttpStatusCode.Conflict, "only a queued job");
    }

    [Fact]
    public async Task Webhook_is_signed_and_retried_until_the_receiver_accepts_it()
    {
        await using var receiver = await WebhookReceiver.StartAsync(failFirst: 2);
        using var response = await Client.PostAsync($"/v1/jobs?callback_url={Uri.EscapeDataString(receiver.Url)}", Form((Dog, "dog.jpg")));
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

        var delivery = await receiver.Accepted.Task.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(3, receiver.Attempts);
        Assert.Equal("job.done", delivery.Headers["X-Iris-Event"]);
        Assert.Equal(JobWebhookSender.Sign(Secret, delivery.Headers["X-Iris-Timestamp"], delivery.Body), delivery.Headers["X-Iris-Signature"]);
        Assert.NotEqual(JobWebhookSender.Sign("another-secret", delivery.Headers["X-Iris-Timestamp"], delivery.Body), delivery.Headers["X-Iris-Signature"]);
        var body = JsonDocument.Parse(delivery.Body).RootElement;
        Assert.Equal(id, body.GetProperty("job").GetProperty("id").GetString());
        Assert.Equal("done", body.GetProperty("job").GetProperty("status").GetString());
        // One delivery, three attempts: the id receivers de-duplicate by stays the same.
        Assert.Equal(["1", "2", "3"], receiver.Requests.Select(r => r.Headers["X-Iris-Delivery-Attempt"]));
        Assert.Single(receiver.Requests.Select(r => r.Headers["X-Iris-Delivery"]).Distinct());
    }

    [Theory]
    [InlineData("http://127.0.0.1:6379/")]
    [InlineData("http://[::ffff:169.254.169.254]/latest/meta-data/")]
    [InlineData("http://admin.localhost/")]
    [InlineData("http://10.0.0.5:9200/_bulk")]
    public async Task A_callback_url_into_the_servers_own_network_is_refused_unless_allowed(string callback)
    {
        await using var host = await StartAsync(workers: 0, new() { ["Jobs:WebhookAllowPrivateNetworks"] = "false" }, name: "ssrf");
        using var response = await host.Client.PostAsync($"/v1/jobs?callback_url={Uri.EscapeDataString(callback)}", Form((Dog, "dog.jpg")));
        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest, "Jobs:WebhookAllowPrivateNetworks");
        Assert.Equal("callback_url", problem.GetProperty("parameter").GetString());
    }

    [Fact]
    public async Task A_webhook_receiver_that_redirects_is_not_followed()
    {
        // A public receiver could otherwise bounce the signed POST into the server's own network.
        await using var target = await WebhookReceiver.StartAsync();
        var redirector = LoopbackApp.Create();
        redirector.MapPost("/hook", () => Results.Redirect(target.Url, permanent: false, preserveMethod: true));
        await redirector.StartAsync();
        try
        {
            using var response = await Client.PostAsync($"/v1/jobs?callback_url={Uri.EscapeDataString(LoopbackApp.AddressOf(redirector) + "/hook")}", Form((Dog, "dog.jpg")));
            var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (true)
            {
                var job = await Client.GetFromJsonAsync<JsonElement>($"/v1/jobs/{id}");
                if (job.TryGetProperty("webhook", out var webhook) && webhook.ValueKind == JsonValueKind.Object
                    && webhook.GetProperty("last_error").GetString() is { } error)
                {
                    Assert.Equal("answered 307", error);
                    break;
                }
                Assert.True(DateTime.UtcNow < deadline, "no delivery attempt was recorded");
                await Task.Delay(100);
            }
            Assert.Empty(target.Requests);
        }
        finally
        {
            await redirector.StopAsync();
            await redirector.DisposeAsync();
        }
    }

    [Fact]
    public async Task Compatibility_routes_answer_with_the_documented_shapes()
    {
        var form = new MultipartFormDataContent { { new ByteArrayContent(Dog), "file", "dog.jpg" } };
        using var submit = await Client.PostAsync("/api/v1/submit", form);
        Assert.Equal(HttpStatusCode.OK, submit.StatusCode);
        var submitted = await submit.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(["job_id", "status", "message"], submitted.EnumerateObject().Select(p => p.Name));
        Assert.Equal("queued", submitted.GetProperty("status").GetString());
        Assert.Equal("Job submitted successfully", submitted.GetProperty("message").GetString());
        var id = submitted.GetProperty("job_id").GetString()!;

        var status = await Client.GetFromJsonAsync<JsonElement>($"/api/v1/status/{id}");
        Assert.Equal(["job_id", "status", "created_at"], status.EnumerateObject().Select(p => p.Name));
        Assert.Equal(id, status.GetProperty("job_id").GetString());

        await WaitFinishedAsync(Client, id);
        var result = await Client.GetFromJsonAsync<JsonElement>($"/api/v1/result/{id}");
        Assert.Equal(["job_id", "status", "image_description", "generated_by", "created_at", "completed_at"], result.EnumerateObject().Select(p => p.Name));
        Assert.Equal("done", result.GetProperty("status").GetString());
        // The compat task is describe (Jobs:CompatTasks), as existing captioning clients expect.
        Assert.Equal("flower-captioner-tiny", result.GetProperty("generated_by").GetString());
        Assert.False(string.IsNullOrWhiteSpace(result.GetProperty("image_description").GetString()));
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync("/api/v1/status/unknown")).StatusCode);
    }

    [Fact]
    public async Task Job_routes_are_described_in_the_openapi_document()
    {
        var document = await Client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var paths = document.GetProperty("paths");
        foreach (var path in new[] { "/v1/jobs", "/v1/jobs/{id}", "/v1/jobs/{id}/result", "/v1/jobs/{id}/events", "/v1/jobs/{id}/retry",
                                     "/api/v1/submit", "/api/v1/status/{job_id}", "/api/v1/result/{job_id}" })
            Assert.True(paths.TryGetProperty(path, out _), $"{path} is missing from the OpenAPI document");
        Assert.Equal("SubmitJob", paths.GetProperty("/v1/jobs").GetProperty("post").GetProperty("operationId").GetString());
        var job = document.GetProperty("components").GetProperty("schemas").GetProperty("JobResponse").GetProperty("properties");
        Assert.True(job.TryGetProperty("webhook", out _), "JobResponse has no webhook property in the OpenAPI document");
    }

    [Theory]
    [InlineData("""{"describe":{"description":"a red flower","model":"flower-captioner-tiny"}}""", "a red flower")]
    [InlineData("""{"describe":{"caption":"a dog on a bike"}}""", "a dog on a bike")]
    [InlineData("""{"describe":"plain caption"}""", "plain caption")]
    [InlineData("""{"detect":{"objects":[]}}""", null)]
    public void Image_description_is_taken_from_the_describe_result(string result, string? expected) =>
        Assert.Equal(expected, Iris.Core.Jobs.ResultDocument.DescriptionOf(result));
}
