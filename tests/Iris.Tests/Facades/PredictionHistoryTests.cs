using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Iris.Core.Predictions;
using Iris.Tests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Iris.Tests.Facades;

/// <summary>
/// The classifier service's prediction history on each backend Iris offers it: the job database (SQLite by default,
/// PostgreSQL as the old service ran it) and the image store (a directory, or an S3 bucket as its MinIO was).
/// </summary>
public sealed class PredictionHistoryTests : IDisposable
{
    private readonly TempDirectory _data = new();

    public void Dispose() => _data.Dispose();

    private static HttpRequestMessage Predict(string image, Guid user, bool save)
    {
        var file = new ByteArrayContent(File.ReadAllBytes(image));
        file.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        return new HttpRequestMessage(HttpMethod.Post, $"/api/v1/inference/predict?save_prediction={save}&user_uid={user}")
        {
            Content = new MultipartFormDataContent { { file, "file", Path.GetFileName(image) } },
        };
    }

    /// <summary>The job database in PostgreSQL; its queue then cannot be the embedded one, so Redis carries it.</summary>
    private static Dictionary<string, string?> Postgres(string database) => new()
    {
        ["Jobs:Store"] = "postgres",
        ["Jobs:Postgres:ConnectionString"] = database,
        ["Jobs:Queue"] = "redis",
        ["Jobs:Redis:ConnectionString"] = TestServices.Redis,
        ["Jobs:Redis:Stream"] = "iris-predictions-" + Guid.NewGuid().ToString("N")[..8],
    };

    private static string Flower(int index) => Path.Combine(TestPaths.Flowers, $"flower-{index:00}.png");

    [Fact]
    public async Task In_postgres_with_images_in_s3_a_saved_prediction_is_a_row_of_the_seeds_types_and_an_object_in_the_bucket()
    {
        var database = await TestServices.CreateDatabaseAsync();
        await using var bucket = await TestBucket.CreateAsync();
        try
        {
            var settings = bucket.HostSettings();
            foreach (var (key, value) in Postgres(database)) settings[key] = value;
            await using var host = await ClassifierServiceHost.StartAsync(_data, settings);
            await host.WaitUntilReadyAsync();
            var user = Guid.NewGuid();

            using var response = await host.Client.SendAsync(Predict(Flower(0), user, save: true));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var listed = Assert.Single((await ClassifierServiceHost.WaitForListedAsync(host.Client, user, 1, token: null)).EnumerateArray());
            Assert.Equal("Banana__Healthy", listed.GetProperty("predicted_class_name").GetString());

            // The row, read as the old service's analytics would: uuid and timestamp columns, in the predictions table.
            await using var connection = new NpgsqlConnection(database);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(
                "SELECT uid, image_path, predicted_class, predicted_class_name, confidence, user_uid, created_at FROM predictions WHERE user_uid = @user", connection);
            command.Parameters.AddWithValue("user", user);
            await using var reader = await command.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal(listed.GetProperty("uid").GetGuid(), reader.GetGuid(0));
            Assert.Equal(4, reader.GetInt32(2));
            Assert.Equal(user, reader.GetGuid(5));
            Assert.Equal(listed.GetProperty("created_at").GetDateTimeOffset().UtcDateTime, reader.GetDateTime(6).ToUniversalTime());
            var path = reader.GetString(1);
            Assert.False(await reader.ReadAsync());

            Assert.Contains(bucket.Prefix + path, await bucket.KeysAsync());
            Assert.Equal(await File.ReadAllBytesAsync(Flower(0)), await bucket.Store.GetAsync(path, CancellationToken.None));
        }
        finally
        {
            await TestServices.DropDatabaseAsync(database);
        }
    }

    [Fact]
    public async Task An_existing_predictions_table_of_the_old_service_is_adopted_and_its_rows_are_listed()
    {
        var database = await TestServices.CreateDatabaseAsync();
        try
        {
            var oldUser = Guid.NewGuid();
            var oldUid = Guid.NewGuid();
            await using (var connection = new NpgsqlConnection(database))
            {
                await connection.OpenAsync();
                // The table SQLModel created for the old service, with one of its rows.
                await using var create = new NpgsqlCommand("""
                    CREATE TABLE predictions (uid UUID PRIMARY KEY, image_path VARCHAR NOT NULL, predicted_class INTEGER NOT NULL,
                        predicted_class_name VARCHAR NOT NULL, confidence FLOAT NOT NULL, user_uid UUID NOT NULL, created_at TIMESTAMP NOT NULL);
                    INSERT INTO predictions VALUES (@uid, 'images/old.jpg', 1, 'Apple__Healthy', 0.9234567, @user, '2025-06-01 12:00:00');
                    """, connection);
                create.Parameters.AddWithValue("uid", oldUid);
                create.Parameters.AddWithValue("user", oldUser);
                await create.ExecuteNonQueryAsync();
            }
            await using var host = await ClassifierServiceHost.StartAsync(_data, Postgres(database));
            await host.WaitUntilReadyAsync();

            using (var response = await host.Client.SendAsync(Predict(Flower(1), oldUser, save: true)))
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var rows = (await ClassifierServiceHost.WaitForListedAsync(host.Client, oldUser, 2, token: null)).EnumerateArray().ToList();
            Assert.Equal(oldUid, rows[1].GetProperty("uid").GetGuid());
            Assert.Equal("images/old.jpg", rows[1].GetProperty("image_path").GetString());
            Assert.Equal(new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero), rows[1].GetProperty("created_at").GetDateTimeOffset());
            Assert.StartsWith($"predictions/{oldUser}/", rows[0].GetProperty("image_path").GetString());
        }
        finally
        {
            await TestServices.DropDatabaseAsync(database);
        }
    }

    [Fact]
    public async Task A_failure_while_saving_is_the_seeds_500_and_leaks_nothing_of_its_cause()
    {
        await using var host = await ClassifierServiceHost.StartAsync(_data, new Dictionary<string, string?>());
        await host.WaitUntilReadyAsync();
        // The outbox table vanishes under the server: recording the prediction fails inside the request.
        await using (var connection = new SqliteConnection($"Data Source={_data.File("jobs.db")};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var drop = connection.CreateCommand();
            drop.CommandText = "DROP TABLE prediction_outbox";
            await drop.ExecuteNonQueryAsync();
        }

        using var failed = await host.Client.SendAsync(Predict(Flower(0), Guid.NewGuid(), save: true));
        var body = await failed.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        Assert.Equal("Ooops! Something went wrong during prediction.", JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString());
        Assert.DoesNotContain("prediction_outbox", body, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("sqlite", body, StringComparison.OrdinalIgnoreCase);

        // Classifying without saving does not need the table.
        using var unsaved = await host.Client.SendAsync(Predict(Flower(0), Guid.NewGuid(), save: false));
        Assert.Equal(HttpStatusCode.OK, unsaved.StatusCode);
    }

    [Fact]
    public void A_Predictions_Model_of_its_own_is_loaded_at_start_up_and_checked_by_readiness_with_Models_Enabled_auto()
    {
        var options = new Iris.Configuration.IrisOptions { Predictions = new Iris.Configuration.PredictionsOptions { Model = "tomato-freshness" } };
        Assert.Equal("tomato-freshness", Iris.Configuration.ServedModels.Of(options)[^1]);
        Assert.DoesNotContain("", Iris.Configuration.ServedModels.Of(new Iris.Configuration.IrisOptions()));
    }

    [Fact]
    public async Task A_Predictions_Model_that_is_not_installed_is_the_seeds_500_not_a_client_error()
    {
        await using var host = await ClassifierServiceHost.StartAsync(_data, new Dictionary<string, string?>
        {
            ["Predictions:Model"] = "tomato-classifier-v2", ["Models:AutoPull"] = "false",
        });
        using var response = await host.Client.SendAsync(Predict(Flower(0), Guid.NewGuid(), save: false));
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("Ooops! Something went wrong during prediction.", JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString());
        Assert.DoesNotContain("tomato-classifier-v2", body);
    }

    [Fact]
    public async Task A_prediction_whose_archive_fails_stays_pending_and_is_saved_once_the_store_works_again()
    {
        await using var host = await ClassifierServiceHost.StartAsync(_data, new Dictionary<string, string?> { ["Jobs:Workers"] = "0" });
        await host.WaitUntilReadyAsync();
        var user = Guid.NewGuid();
        using (var response = await host.Client.SendAsync(Predict(Flower(2), user, save: true)))
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var store = host.App.Services.GetRequiredService<IPredictionStore>();
        Assert.Equal(1, await store.CountPendingAsync(CancellationToken.None));

        // A store that refuses every write, then the real one: the same pending prediction is completed once, by path and uid.
        var history = host.App.Services.GetRequiredService<PredictionHistory>();
        var archive = host.App.Services.GetRequiredService<IPredictionArchive>();
        var failing = new PredictionHistory(store, new RefusingArchive(), TimeSpan.FromMilliseconds(50),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<PredictionHistory>.Instance, new ClockAt(DateTimeOffset.UtcNow.AddHours(-1)));
        Assert.Equal(1, await failing.CompleteDueAsync(CancellationToken.None));
        Assert.Equal(1, await store.CountPendingAsync(CancellationToken.None));
        Assert.Empty((await store.ListAsync(new PredictionQuery(user, null, null, 10), CancellationToken.None)).Predictions);

        // The failure postponed it to the (fake) clock's now + 1 s, an hour ago by the real clock: it is due again at once.
        Assert.Equal(1, await history.CompleteDueAsync(CancellationToken.None));
        Assert.Equal(0, await store.CountPendingAsync(CancellationToken.None));
        var saved = Assert.Single((await store.ListAsync(new PredictionQuery(user, null, null, 10), CancellationToken.None)).Predictions);
        Assert.Equal(await File.ReadAllBytesAsync(Flower(2)), await archive.GetAsync(saved.ImagePath, CancellationToken.None));
    }

    private sealed class RefusingArchive : IPredictionArchive
    {
        public Task PutAsync(string path, ReadOnlyMemory<byte> image, CancellationToken cancellationToken) =>
            throw new IOException("the image store is unreachable");

        public Task<byte[]?> GetAsync(string path, CancellationToken cancellationToken) => Task.FromResult<byte[]?>(null);
    }

    private sealed class ClockAt(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
