using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Iris.Core.Storage;
using Iris.Tests.Support;

namespace Iris.Tests.Http;

/// <summary>A real server with Storage:Provider=s3 against a real S3 server (s3rver): uploads, /v1/img, jobs on stored ids, transform outputs.</summary>
public sealed class S3StorageApiTests : IAsyncLifetime
{
    private static byte[] Dog => File.ReadAllBytes(TestPaths.RealImage("dog.jpg"));

    private readonly TempDirectory _data = new();
    private TestBucket _bucket = null!;
    private IrisTestHost _host = null!;
    private HttpClient Client => _host.Client;

    public async Task InitializeAsync()
    {
        _bucket = await TestBucket.CreateAsync();
        var settings = TransformHost.Settings(_data.Path);
        foreach (var (key, value) in _bucket.HostSettings()) settings[key] = value;
        _host = await IrisTestHost.StartAsync(settings);
        await _host.WaitUntilReadyAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _bucket.DisposeAsync();
        _data.Dispose();
    }

    private async Task<string> UploadAsync(byte[] image)
    {
        using var response = await Client.PostAsync("/api/v1/upload", TransformApiTests.Raw(image));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    [Fact]
    public async Task An_upload_goes_to_the_bucket_and_img_urls_serve_it()
    {
        var id = await UploadAsync(Dog);
        Assert.Equal(BlobIds.For(Dog), id);
        Assert.Contains($"iris/images/{id}", await _bucket.KeysAsync());
        Assert.False(Directory.Exists(Path.Combine(_data.Path, "blobs")), "nothing is stored on local disk");

        using var transformed = await Client.GetAsync(TransformHost.SignedUrl("resize:w=120;format:png", id));
        Assert.Equal(HttpStatusCode.OK, transformed.StatusCode);
        Assert.Equal("image/png", transformed.Content.Headers.ContentType?.MediaType);
        using var direct = await Client.PostAsync("/v1/transform?ops=resize:w=120;format:png", TransformApiTests.Raw(Dog, "image/jpeg"));
        Assert.Equal(await direct.Content.ReadAsByteArrayAsync(), await transformed.Content.ReadAsByteArrayAsync());

        // An id that is not in the bucket is still a 404 naming it.
        using var missing = await Client.GetAsync(TransformHost.SignedUrl("-", BlobIds.For("never uploaded"u8)));
        await TransformApiTests.AssertProblem(missing, HttpStatusCode.NotFound, BlobIds.For("never uploaded"u8));
    }

    [Fact]
    public async Task A_detect_job_on_an_uploaded_id_reads_it_from_the_bucket()
    {
        var id = await UploadAsync(Dog);
        using var response = await Client.PostAsync($"/v1/jobs?image_ids={id}&tasks=detect", null);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var job = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var result = await TransformJobsTests.ResultAsync(Client, job);
        Assert.Contains(result.GetProperty("detect").GetProperty("objects").EnumerateArray(), o => o.GetProperty("label").GetString() == "dog");
    }

    [Fact]
    public async Task A_job_submitted_to_an_api_node_is_run_by_a_worker_node_through_the_bucket()
    {
        // An API-only node with its own local directories: only the job database and the bucket are shared.
        using var apiData = new TempDirectory();
        var settings = TransformHost.Settings(apiData.Path);
        foreach (var (key, value) in _bucket.HostSettings()) settings[key] = value;
        settings["Jobs:Database"] = Path.Combine(_data.Path, "jobs.db");
        settings["Jobs:Workers"] = "0";
        await using var api = await IrisTestHost.StartAsync(settings);

        using var response = await api.Client.PostAsync("/v1/jobs?tasks=info", TransformApiTests.Raw(Dog, "image/jpeg"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var job = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var result = await TransformJobsTests.ResultAsync(api.Client, job);
        Assert.Equal(768, result.GetProperty("info").GetProperty("width").GetInt32());

        Assert.False(Directory.Exists(Path.Combine(apiData.Path, "job-inputs")), "Jobs:InputDirectory is not used with Storage:Provider=s3");
        // The worker deletes a done job's input, in the bucket.
        Assert.DoesNotContain(await _bucket.KeysAsync(), k => k.StartsWith("iris/job-inputs/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_transform_jobs_output_is_an_object_in_the_bucket()
    {
        using var response = await Client.PostAsync("/v1/jobs?tasks=transform&ops=" + Uri.EscapeDataString("resize:w=90;format:webp"),
            TransformApiTests.Raw(Dog, "image/jpeg"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var job = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var output = (await TransformJobsTests.ResultAsync(Client, job)).GetProperty("transform").GetProperty("outputs")[0];
        var id = output.GetProperty("id").GetString()!;

        var stored = await _bucket.Store.GetAsync($"images/{id}", CancellationToken.None);
        Assert.NotNull(stored);
        Assert.Equal(output.GetProperty("bytes").GetInt64(), stored.Length);
        Assert.Equal("WEBP", System.Text.Encoding.ASCII.GetString(stored, 8, 4));
        using var served = await Client.GetAsync(output.GetProperty("url").GetString());
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
    }

    [Fact]
    public async Task Readiness_reports_the_bucket()
    {
        var health = await Client.GetFromJsonAsync<JsonElement>("/readyz");
        var check = health.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "storage:s3");
        Assert.Equal("healthy", check.GetProperty("status").GetString());
        Assert.Contains(_bucket.Name, check.GetProperty("detail").GetString());
    }
}
