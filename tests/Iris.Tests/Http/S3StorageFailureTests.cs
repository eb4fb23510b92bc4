using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Iris.Configuration;
using Iris.Tests.Storage;
using Iris.Tests.Support;

namespace Iris.Tests.Http;

/// <summary>A bucket that cannot be used stops start-up with the option to fix, and one that goes away later makes the server not ready and its requests 503 — never a 500.</summary>
public sealed class S3StorageFailureTests
{
    private static Dictionary<string, string?> Settings(TempDirectory data, TestBucket bucket, params (string Key, string Value)[] overrides)
    {
        var settings = TransformHost.Settings(data.Path);
        foreach (var (key, value) in bucket.HostSettings()) settings[key] = value;
        foreach (var (key, value) in overrides) settings[key] = value;
        return settings;
    }

    [Fact]
    public async Task A_missing_bucket_stops_start_up_naming_the_bucket_option()
    {
        using var data = new TempDirectory();
        await using var bucket = await TestBucket.CreateAsync();
        var error = await Assert.ThrowsAsync<InvalidConfigurationException>(() =>
            IrisTestHost.StartAsync(Settings(data, bucket, ("Storage:S3:Bucket", "iris-test-missing-bucket"))));
        Assert.Contains("bucket 'iris-test-missing-bucket'", error.Message);
        Assert.Contains("does not exist", error.Message);
        Assert.Contains("Storage:S3:Bucket", error.Message);
    }

    [Fact]
    public async Task An_unreachable_endpoint_stops_start_up_naming_the_url_option()
    {
        using var data = new TempDirectory();
        await using var bucket = await TestBucket.CreateAsync();
        var error = await Assert.ThrowsAsync<InvalidConfigurationException>(() =>
            IrisTestHost.StartAsync(Settings(data, bucket, ("Storage:S3:ServiceUrl", $"http://127.0.0.1:{S3BlobStoreTests.ClosedPort()}"))));
        Assert.Contains("could not be reached", error.Message);
        Assert.Contains("Storage:S3:ServiceUrl", error.Message);
    }

    [Theory]
    [InlineData("serve")]
    [InlineData("worker")]
    public async Task Serve_and_worker_exit_with_code_2_when_the_bucket_is_missing(string command)
    {
        using var data = new TempDirectory();
        var outcome = await IrisProcess.RunAsync([command], new Dictionary<string, string>
        {
            ["IRIS__Server__Urls"] = "http://127.0.0.1:0",
            ["IRIS__Storage__Provider"] = "s3",
            ["IRIS__Storage__S3__ServiceUrl"] = TestServices.S3,
            ["IRIS__Storage__S3__Bucket"] = "iris-test-missing-bucket",
            ["IRIS__Storage__S3__AccessKey"] = TestBucket.AccessKey,
            ["IRIS__Storage__S3__SecretKey"] = TestBucket.SecretKey,
            ["IRIS__Models__CacheDirectory"] = data.File("models"),
            ["IRIS__Models__LoadOnStartup"] = "false",
            ["IRIS__Jobs__Database"] = data.File("jobs.db"),
        }, TimeSpan.FromSeconds(60));
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("Storage:S3:Bucket", outcome.StandardError);
    }

    [Fact]
    public async Task A_bucket_that_goes_away_makes_the_server_not_ready_and_requests_503()
    {
        using var data = new TempDirectory();
        await using var bucket = await TestBucket.CreateAsync();
        await using var host = await IrisTestHost.StartAsync(Settings(data, bucket));
        await host.WaitUntilReadyAsync();
        await bucket.DeleteAsync();

        using var ready = await host.Client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        var check = (await ready.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("checks").EnumerateArray()
            .Single(c => c.GetProperty("name").GetString() == "storage:s3");
        Assert.Equal("unhealthy", check.GetProperty("status").GetString());
        Assert.Contains("does not exist", check.GetProperty("detail").GetString());

        using var upload = await host.Client.PostAsync("/api/v1/upload", TransformApiTests.Raw(File.ReadAllBytes(TestPaths.RealImage("dog.jpg"))));
        var problem = await TransformApiTests.AssertProblem(upload, HttpStatusCode.ServiceUnavailable, $"bucket '{bucket.Name}'");
        Assert.DoesNotContain(" at Iris.", problem.GetRawText());
        Assert.NotNull(upload.Headers.RetryAfter);

        using var image = await host.Client.GetAsync(TransformHost.SignedUrl("resize:w=10", new string('a', 32)));
        await TransformApiTests.AssertProblem(image, HttpStatusCode.ServiceUnavailable, "Storage:S3:Bucket");
        using var job = await host.Client.PostAsync("/v1/jobs?tasks=info", TransformApiTests.Raw(File.ReadAllBytes(TestPaths.RealImage("dog.jpg")), "image/jpeg"));
        await TransformApiTests.AssertProblem(job, HttpStatusCode.ServiceUnavailable, "does not exist");
    }
}
