using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Iris.Jobs;
using Iris.Tests.Support;

namespace Iris.Tests.Jobs;

/// <summary>
/// Webhooks and retention through the real server, on SQLite (embedded queue) and PostgreSQL (Redis queue): a webhook
/// owed when the server dies is delivered after it restarts; refused deliveries back off and end failed; expired jobs go.
/// </summary>
public sealed class JobWebhookDeliveryTests : IAsyncLifetime
{
    private const string Secret = "outbox-secret";
    private readonly TempDirectory _data = new();
    private readonly List<Func<Task>> _cleanups = [];
    private static byte[] Dog => File.ReadAllBytes(TestPaths.RealImage("dog.jpg"));

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var cleanup in _cleanups) await cleanup();
        _data.Dispose();
    }

    /// <summary>Settings (as IRIS__ environment names) for one store; every process of a test shares them.</summary>
    private async Task<Dictionary<string, string>> EnvironmentAsync(string store, Dictionary<string, string> extra)
    {
        var environment = new Dictionary<string, string>
        {
            ["IRIS__Jobs__Store"] = store,
            ["IRIS__Jobs__Queue"] = store == "sqlite" ? "embedded" : "redis",
            ["IRIS__Jobs__Database"] = _data.File("jobs.db"),
            ["IRIS__Jobs__InputDirectory"] = _data.File("inputs"),
            ["IRIS__Jobs__PollIntervalMs"] = "50",
            ["IRIS__Jobs__WebhookSecret"] = Secret,
            ["IRIS__Jobs__WebhookAllowPrivateNetworks"] = "true",
            ["IRIS__Models__CacheDirectory"] = _data.File("models"),
            ["IRIS__Models__Mirror"] = TestPaths.ModelMirror,
            ["IRIS__Models__Enabled"] = "yolox-nano",
            ["IRIS__Log__Format"] = "text",
            ["IRIS__Log__Level"] = "Information",
        };
        if (store == "postgres")
        {
            var database = await TestServices.CreateDatabaseAsync();
            _cleanups.Add(() => TestServices.DropDatabaseAsync(database));
            environment["IRIS__Jobs__Postgres__ConnectionString"] = database;
            environment["IRIS__Jobs__Redis__ConnectionString"] = TestServices.Redis;
            environment["IRIS__Jobs__Redis__Stream"] = "iris-outbox-" + Guid.NewGuid().ToString("N")[..8];
        }
        foreach (var pair in extra) environment[pair.Key] = pair.Value;
        return environment;
    }

    private static Task<IrisTestHost> StartHostAsync(Dictionary<string, string> environment, Dictionary<string, string>? extra = null) =>
        IrisTestHost.StartAsync(environment.Concat(extra ?? []).GroupBy(p => p.Key).ToDictionary(
            g => g.Key["IRIS__".Length..].Replace("__", ":"), g => (string?)g.Last().Value));

    private static async Task<string> SubmitAsync(HttpClient client, string? callbackUrl)
    {
        using var form = new MultipartFormDataContent { { new ByteArrayContent(Dog), "image", "dog.jpg" } };
        using var response = await client.PostAsync(callbackUrl is null ? "/v1/jobs" : $"/v1/jobs?callback_url={Uri.EscapeDataString(callbackUrl)}", form);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    /// <summary>Polls the job until <paramref name="done"/> holds, failing with the last document at the deadline.</summary>
    private static async Task<JsonElement> WaitJobAsync(HttpClient client, string id, Func<JsonElement, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            JsonElement? job = null;
            try
            {
                using var response = await client.GetAsync($"/v1/jobs/{id}");
                if (response.IsSuccessStatusCode) job = await response.Content.ReadFromJsonAsync<JsonElement>();
            }
            catch (HttpRequestException) { }
            if (job is { } j && done(j)) return j;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"job {id}: {job?.ToString() ?? "no answer"}");
            await Task.Delay(100);
        }
    }

    private static string? Webhook(JsonElement job, string property) =>
        job.TryGetProperty("webhook", out var webhook) && webhook.ValueKind == JsonValueKind.Object
            ? webhook.GetProperty(property) is { ValueKind: not JsonValueKind.Null } value ? value.ToString() : null
            : null;

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Webhook_owed_when_the_server_is_killed_is_delivered_after_it_restarts(string store)
    {
        await using var receiver = await WebhookReceiver.StartAsync(refusing: true);
        var urls = $"http://127.0.0.1:{JobCrashSafetyTests.FreePort()}";
        using var client = new HttpClient { BaseAddress = new Uri(urls), Timeout = TimeSpan.FromSeconds(60) };
        var environment = await EnvironmentAsync(store, new()
        {
            ["IRIS__Server__Urls"] = urls, ["IRIS__Jobs__Workers"] = "1",
            ["IRIS__Jobs__WebhookBaseDelaySeconds"] = "0.5", ["IRIS__Jobs__WebhookMaxAttempts"] = "100",
        });

        // The receiver is down (answers 500) when the job finishes: the webhook stays owed, then the server dies.
        var first = IrisDaemon.Start(["serve"], environment);
        await first.WaitForLineAsync(l => l.Contains("Now listening", StringComparison.Ordinal), TimeSpan.FromMinutes(2));
        var id = await SubmitAsync(client, receiver.Url);
        var owed = await WaitJobAsync(client, id, j => Webhook(j, "last_error") is not null, TimeSpan.FromMinutes(2));
        await first.KillAsync();
        Assert.Equal("done", owed.GetProperty("status").GetString());
        Assert.Equal("pending", Webhook(owed, "status"));
        Assert.Equal("answered 500", Webhook(owed, "last_error"));
        var deliveryId = Webhook(owed, "id");
        var refused = receiver.Requests.Count;

        // Back up with the receiver accepting: the new process finds the delivery in the store and sends it.
        receiver.Refusing = false;
        await using var second = IrisDaemon.Start(["serve"], environment);
        var (headers, body) = await receiver.Accepted.Task.WaitAsync(TimeSpan.FromMinutes(2));
        var delivered = await WaitJobAsync(client, id, j => Webhook(j, "status") == "delivered", TimeSpan.FromMinutes(1));

        Assert.Equal(deliveryId, headers["X-Iris-Delivery"]);
        Assert.True(int.Parse(headers["X-Iris-Delivery-Attempt"]) > refused, $"attempt {headers["X-Iris-Delivery-Attempt"]} after {refused} refused");
        Assert.Equal("job.done", headers["X-Iris-Event"]);
        Assert.Equal(JobWebhookSender.Sign(Secret, headers["X-Iris-Timestamp"], body), headers["X-Iris-Signature"]);
        // Exactly the job as stored: every field of GET /v1/jobs/{id} but the webhook's own state.
        var sent = JsonDocument.Parse(body).RootElement;
        Assert.Equal("job.done", sent.GetProperty("event").GetString());
        var job = sent.GetProperty("job");
        Assert.Equal(delivered.EnumerateObject().Select(p => p.Name).Where(n => n != "webhook"), job.EnumerateObject().Select(p => p.Name));
        foreach (var property in job.EnumerateObject())
            Assert.Equal(delivered.GetProperty(property.Name).GetRawText(), property.Value.GetRawText());
        Assert.Null(Webhook(delivered, "last_error"));
        Assert.NotNull(Webhook(delivered, "delivered_at"));
        Assert.Null(Webhook(delivered, "next_attempt_at"));
        Assert.Equal(headers["X-Iris-Delivery-Attempt"], Webhook(delivered, "attempts"));
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Refused_webhook_backs_off_visibly_and_is_failed_after_the_last_attempt(string store)
    {
        await using var receiver = await WebhookReceiver.StartAsync(refusing: true);
        var environment = await EnvironmentAsync(store, new()
        {
            ["IRIS__Jobs__Workers"] = "1", ["IRIS__Jobs__WebhookBaseDelaySeconds"] = "0.4", ["IRIS__Jobs__WebhookMaxAttempts"] = "3",
        });
        await using var host = await StartHostAsync(environment);
        var id = await SubmitAsync(host.Client, receiver.Url);

        var retrying = await WaitJobAsync(host.Client, id, j => Webhook(j, "last_error") is not null && Webhook(j, "status") == "pending", TimeSpan.FromMinutes(2));
        Assert.Equal("pending", Webhook(retrying, "status"));
        Assert.Equal("answered 500", Webhook(retrying, "last_error"));
        Assert.NotNull(Webhook(retrying, "next_attempt_at"));
        var failed = await WaitJobAsync(host.Client, id, j => Webhook(j, "status") == "failed", TimeSpan.FromMinutes(1));
        Assert.Equal("3", Webhook(failed, "attempts"));
        Assert.Equal("answered 500", Webhook(failed, "last_error"));
        Assert.Null(Webhook(failed, "next_attempt_at"));
        Assert.Null(Webhook(failed, "delivered_at"));

        // Three attempts of one delivery, each after the backoff: base · 2^(attempt−1).
        var requests = receiver.Requests.ToList();
        Assert.Equal(["1", "2", "3"], requests.Select(r => r.Headers["X-Iris-Delivery-Attempt"]));
        Assert.Single(requests.Select(r => r.Headers["X-Iris-Delivery"]).Distinct());
        Assert.True(requests[1].At - requests[0].At >= TimeSpan.FromSeconds(0.4), $"second attempt {requests[1].At - requests[0].At} after the first");
        Assert.True(requests[2].At - requests[1].At >= TimeSpan.FromSeconds(0.8), $"third attempt {requests[2].At - requests[1].At} after the second");
        // That no attempt follows the last is proved on a fake clock: JobOutboxStoreContract.Refused_webhook_is_retried_after_each_backoff_and_never_after_its_last_attempt.
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Expired_finished_jobs_are_deleted_with_their_inputs_and_recent_ones_stay(string store)
    {
        var environment = await EnvironmentAsync(store, new()
        {
            ["IRIS__Jobs__Retention"] = "00:00:04", ["IRIS__Jobs__RetentionSweepInterval"] = "00:00:00.200",
        });
        string canceled;
        // An API-only node first: its job stays queued, so it can be canceled (a canceled job keeps its input).
        await using (var api = await StartHostAsync(environment, new() { ["IRIS__Jobs__Workers"] = "0" }))
        {
            canceled = await SubmitAsync(api.Client, null);
            Assert.Equal(HttpStatusCode.OK, (await api.Client.DeleteAsync($"/v1/jobs/{canceled}")).StatusCode);
            Assert.Single(Directory.GetFiles(_data.File("inputs")));
        }

        await using var host = await StartHostAsync(environment, new() { ["IRIS__Jobs__Workers"] = "1" });
        var done = await SubmitAsync(host.Client, null);
        await WaitJobAsync(host.Client, done, j => j.GetProperty("status").GetString() == "done", TimeSpan.FromMinutes(2));
        foreach (var id in new[] { canceled, done })
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
            while ((await host.Client.GetAsync($"/v1/jobs/{id}")).StatusCode != HttpStatusCode.NotFound)
            {
                Assert.True(DateTime.UtcNow < deadline, $"job {id} was not deleted");
                await Task.Delay(100);
            }
            Assert.Equal(HttpStatusCode.NotFound, (await host.Client.GetAsync($"/v1/jobs/{id}/result")).StatusCode);
        }
        Assert.Empty(Directory.GetFiles(_data.File("inputs")));

        // A job that finished just now is kept.
        var recent = await SubmitAsync(host.Client, null);
        await WaitJobAsync(host.Client, recent, j => j.GetProperty("status").GetString() == "done", TimeSpan.FromMinutes(2));
        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync($"/v1/jobs/{recent}/result")).StatusCode);
    }
}
