using System.Net;
using System.Net.Http.Headers;
using Iris.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Iris.Tests.Facades;

/// <summary>
/// A saved prediction survives the server: a real <c>iris serve</c> is killed with SIGKILL right after it answered
/// 200 to <c>save_prediction=true</c>, and once a server runs again on the same data the row and the archived image are there.
/// </summary>
public sealed class PredictionCrashSafetyTests : IDisposable
{
    private readonly TempDirectory _data = new();

    public void Dispose() => _data.Dispose();

    private Dictionary<string, string> Environment(string urls, int workers) => new()
    {
        ["IRIS__Server__Urls"] = urls,
        ["IRIS__Jobs__Database"] = _data.File("jobs.db"),
        ["IRIS__Jobs__InputDirectory"] = _data.File("inputs"),
        ["IRIS__Jobs__Workers"] = workers.ToString(),
        ["IRIS__Jobs__PollIntervalMs"] = "50",
        ["IRIS__Storage__Directory"] = _data.File("blobs"),
        ["IRIS__Models__CacheDirectory"] = _data.File("models"),
        ["IRIS__Models__Mirror"] = TestPaths.ModelMirror,
        ["IRIS__Models__Enabled"] = "petal-color",
        ["IRIS__Log__Format"] = "text",
    };

    private static async Task PredictAndSaveAsync(HttpClient client, Guid user, byte[] image)
    {
        var file = new ByteArrayContent(image);
        file.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        using var response = await client.PostAsync($"/api/v1/inference/predict?save_prediction=true&user_uid={user}",
            new MultipartFormDataContent { { file, "file", "flower.png" } });
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    private async Task<IrisDaemon> ServeAsync(string urls, int workers)
    {
        var server = IrisDaemon.Start(["serve"], Environment(urls, workers));
        await server.WaitForLineAsync(l => l.Contains("Now listening", StringComparison.Ordinal), TimeSpan.FromMinutes(1));
        return server;
    }

    private async Task<long> CountAsync(string table)
    {
        await using var connection = new SqliteConnection($"Data Source={_data.File("jobs.db")};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT count(*) FROM {table}";
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task A_server_killed_right_after_answering_save_prediction_has_the_row_and_the_image_after_restart()
    {
        var urls = $"http://127.0.0.1:{Jobs.JobCrashSafetyTests.FreePort()}";
        using var client = new HttpClient { BaseAddress = new Uri(urls), Timeout = TimeSpan.FromSeconds(60) };
        var user = Guid.NewGuid();
        var image = await File.ReadAllBytesAsync(Path.Combine(TestPaths.Flowers, "flower-00.png"));

        // An API-only server (no workers, so no archiver): what it owes after the 200 is only in its outbox when it dies.
        await using var first = await ServeAsync(urls, workers: 0);
        await PredictAndSaveAsync(client, user, image);
        await first.KillAsync();
        Assert.Equal(1, await CountAsync("prediction_outbox"));
        Assert.Equal(0, await CountAsync("predictions"));

        await using var second = await ServeAsync(urls, workers: 1);
        var row = Assert.Single((await ClassifierServiceHost.WaitForListedAsync(client, user, 1, token: null)).EnumerateArray());
        Assert.Equal(4, row.GetProperty("predicted_class").GetInt32());
        Assert.Equal("purple", row.GetProperty("predicted_class_name").GetString());
        Assert.Equal(image, await File.ReadAllBytesAsync(Path.Combine(_data.File("blobs"), row.GetProperty("image_path").GetString()!)));
        Assert.Equal(0, await CountAsync("prediction_outbox"));
        Assert.Equal(0, await second.StopAsync(TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public async Task A_server_that_archives_itself_and_is_killed_right_after_the_200_leaves_exactly_one_row_after_restart()
    {
        var urls = $"http://127.0.0.1:{Jobs.JobCrashSafetyTests.FreePort()}";
        using var client = new HttpClient { BaseAddress = new Uri(urls), Timeout = TimeSpan.FromSeconds(60) };
        var user = Guid.NewGuid();
        var image = await File.ReadAllBytesAsync(Path.Combine(TestPaths.Flowers, "flower-03.png"));

        // Killed at whatever point its own archiver reached: before claiming, mid-way, or done.
        await using var first = await ServeAsync(urls, workers: 1);
        await PredictAndSaveAsync(client, user, image);
        await first.KillAsync();

        await using var second = await ServeAsync(urls, workers: 1);
        // A claim the killed process held expires after PredictionHistory.ClaimLease (60 s).
        var row = Assert.Single((await ClassifierServiceHost.WaitForListedAsync(client, user, 1, token: null, TimeSpan.FromSeconds(90))).EnumerateArray());
        Assert.Equal(image, await File.ReadAllBytesAsync(Path.Combine(_data.File("blobs"), row.GetProperty("image_path").GetString()!)));
        Assert.Equal(1, await CountAsync("predictions"));
        Assert.Equal(0, await CountAsync("prediction_outbox"));
    }
}
