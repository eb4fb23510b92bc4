using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Iris.Core.Storage;
using Iris.Tests.Support;

namespace Iris.Tests.Storage;

/// <summary>Full and read-only data disks, on a real tmpfs: refused with a status and a message that name the store.</summary>
public sealed class FullAndReadOnlyDiskTests
{
    private static MultipartFormDataContent Dog() =>
        new() { { new ByteArrayContent(File.ReadAllBytes(TestPaths.RealImage("dog.jpg"))), "image", "dog.jpg" } };

    private static async Task<string> AssertInsufficientStorageAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.InsufficientStorage, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString()!;
    }

    [TmpfsFact]
    public async Task A_full_disk_answers_507_naming_the_store_on_upload_and_job_submission_and_readyz_reports_it()
    {
        using var disk = new TmpfsMount(2 * 1024 * 1024, readOnly: false);
        using var elsewhere = new TempDirectory();
        await using var host = await IrisTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Storage:Directory"] = disk.File("blobs"),
            ["Jobs:InputDirectory"] = disk.File("job-inputs"),
            ["Jobs:Database"] = elsewhere.File("jobs.db"),
            ["Transforms:CacheDirectory"] = elsewhere.File("transform-cache"),
            ["Jobs:Workers"] = "0",
            ["Models:LoadOnStartup"] = "false",
        });
        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync("/readyz")).StatusCode);

        disk.Fill();

        var upload = await AssertInsufficientStorageAsync(await host.Client.PostAsync("/api/v1/upload", Dog()));
        Assert.Contains("image store", upload);
        Assert.Contains("Storage:Directory", upload);
        var job = await AssertInsufficientStorageAsync(await host.Client.PostAsync("/v1/jobs?tasks=info", Dog()));
        Assert.Contains("Jobs:InputDirectory", job);

        using var ready = await host.Client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        var checks = (await ready.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("checks").EnumerateArray().ToList();
        var images = checks.Single(c => c.GetProperty("name").GetString() == "storage:images");
        Assert.Equal("unhealthy", images.GetProperty("status").GetString());
        Assert.Contains("Storage:Directory", images.GetProperty("detail").GetString());
        Assert.Equal("unhealthy", checks.Single(c => c.GetProperty("name").GetString() == "storage:job-inputs").GetProperty("status").GetString());
    }

    [TmpfsFact]
    public async Task A_full_job_database_disk_answers_507_naming_jobs_database()
    {
        using var disk = new TmpfsMount(2 * 1024 * 1024, readOnly: false);
        using var elsewhere = new TempDirectory();
        var host = await IrisTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Storage:Directory"] = elsewhere.File("blobs"),
            ["Jobs:InputDirectory"] = elsewhere.File("job-inputs"),
            ["Jobs:Database"] = disk.File("jobs.db"),
            ["Jobs:Workers"] = "0",
            ["Models:LoadOnStartup"] = "false",
        });
        try
        {
            disk.Fill();

            // Enough submissions to need pages the full disk cannot give.
            string? detail = null;
            for (var i = 0; i < 50 && detail is null; i++)
            {
                using var response = await host.Client.PostAsync($"/v1/jobs?tasks=info&n={i}", Dog());
                if (response.StatusCode != HttpStatusCode.Accepted) detail = await AssertInsufficientStorageAsync(response);
            }
            Assert.NotNull(detail);
            Assert.Contains("Jobs:Database", detail);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await host.Client.GetAsync("/readyz")).StatusCode);
        }
        finally
        {
            await host.DisposeAsync();
            // Pooled connections keep the database open after the server stops.
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        }
    }

    [TmpfsFact]
    public async Task The_local_blob_store_on_a_full_disk_throws_storage_full_naming_its_option_and_leaves_no_partial_file()
    {
        using var disk = new TmpfsMount(1024 * 1024, readOnly: false);
        var store = new LocalDiskBlobStore(disk.File("blobs"));
        disk.Fill();

        var full = await Assert.ThrowsAsync<StorageFullException>(() => store.PutAsync(new byte[256 * 1024], CancellationToken.None));

        Assert.Equal("Storage:Directory", full.Option);
        Assert.DoesNotContain(Directory.EnumerateFiles(disk.Path, "*.tmp", SearchOption.AllDirectories), _ => true);
    }

    /// <summary>Runs <c>iris COMMAND</c> with the given options and returns its standard error, once it exited with 2.</summary>
    private static async Task<string> ExitsWithTwoAsync(string command, Dictionary<string, string> environment)
    {
        var outcome = await IrisProcess.RunAsync([command], environment);
        Assert.True(outcome.ExitCode == 2, $"exit {outcome.ExitCode}: {outcome.StandardError}");
        Assert.Contains("not writable", outcome.StandardError);
        Assert.DoesNotContain("Unhandled exception", outcome.StandardError);
        return outcome.StandardError;
    }

    [TmpfsFact]
    public async Task Serve_on_a_read_only_data_directory_exits_2_naming_the_option()
    {
        using var disk = new TmpfsMount(1024 * 1024, readOnly: true);
        var error = await ExitsWithTwoAsync("serve", new Dictionary<string, string>
        {
            ["IRIS__Server__Urls"] = "http://127.0.0.1:0",
            ["IRIS__Storage__Directory"] = disk.File("blobs"),
            ["IRIS__Jobs__InputDirectory"] = disk.File("job-inputs"),
            ["IRIS__Jobs__Database"] = disk.File("jobs.db"),
            ["IRIS__Transforms__CacheDirectory"] = disk.File("transform-cache"),
            ["IRIS__Models__CacheDirectory"] = disk.File("models"),
        });

        Assert.Contains("Jobs:InputDirectory", error);
        Assert.Contains("Storage:Directory", error);
    }

    [TmpfsFact]
    public async Task A_worker_on_a_read_only_job_input_directory_exits_2_naming_the_option()
    {
        using var disk = new TmpfsMount(1024 * 1024, readOnly: true);
        using var elsewhere = new TempDirectory();
        var error = await ExitsWithTwoAsync("worker", new Dictionary<string, string>
        {
            ["IRIS__Storage__Directory"] = elsewhere.File("blobs"),
            ["IRIS__Jobs__InputDirectory"] = disk.File("job-inputs"),
            ["IRIS__Jobs__Database"] = elsewhere.File("jobs.db"),
        });

        Assert.Contains("Jobs:InputDirectory", error);
        Assert.DoesNotContain("Storage:Directory", error);
    }
}
