using Iris.Core.Jobs;
using Iris.Core.Storage;
using Iris.Tests.Support;

namespace Iris.Tests.Storage;

/// <summary>The store contract on a real S3 server (s3rver), plus where the objects go and what a broken bucket says.</summary>
public sealed class S3BlobStoreTests : BlobStoreContract
{
    private TestBucket _bucket = null!;

    protected override async Task<(IBlobStore Images, IJobBlobStore JobInputs)> CreateAsync()
    {
        _bucket = await TestBucket.CreateAsync(prefix: "tenant-a/iris/");
        return (new S3BlobStore(_bucket.Store), new S3JobBlobStore(_bucket.Store));
    }

    public override async Task DisposeAsync() => await _bucket.DisposeAsync();

    [Fact]
    public async Task Images_and_job_inputs_are_objects_under_the_prefix_in_their_own_folders()
    {
        var id = await Images.PutAsync("an image"u8.ToArray(), CancellationToken.None);
        var reference = await JobInputs.PutAsync("a job input"u8.ToArray(), CancellationToken.None);
        Assert.Equal(new[] { $"tenant-a/iris/images/{id}", $"tenant-a/iris/job-inputs/{reference}" }.Order(), (await _bucket.KeysAsync()).Order());
    }

    [Fact]
    public async Task A_second_client_of_the_bucket_sees_what_the_first_stored()
    {
        // Servers and workers on other machines share the bucket: each has its own client.
        using var other = new S3ObjectStore(TestBucket.Settings(_bucket.Name, _bucket.Prefix));
        var reference = await JobInputs.PutAsync("submitted on one node"u8.ToArray(), CancellationToken.None);
        Assert.Equal("submitted on one node"u8.ToArray(), await new S3JobBlobStore(other).GetAsync(reference, CancellationToken.None));
    }

    [Fact]
    public async Task A_missing_bucket_is_reported_naming_the_bucket_option()
    {
        using var store = new S3ObjectStore(TestBucket.Settings("iris-test-no-such-bucket"));
        var error = await Assert.ThrowsAsync<StorageUnavailableException>(() => store.CheckAsync(CancellationToken.None));
        Assert.Contains("bucket 'iris-test-no-such-bucket'", error.Message);
        Assert.Contains("does not exist", error.Message);
        Assert.Contains("Storage:S3:Bucket", error.Message);
        // Reads say so too, rather than pretending the image is merely missing.
        await Assert.ThrowsAsync<StorageUnavailableException>(() => new S3BlobStore(store).GetAsync(BlobIds.For("x"u8), CancellationToken.None));
    }

    [Fact]
    public async Task Unknown_credentials_are_reported_naming_the_key_options()
    {
        using var store = new S3ObjectStore(TestBucket.Settings(_bucket.Name, accessKey: "NOT-A-KEY"));
        var error = await Assert.ThrowsAsync<StorageUnavailableException>(() => store.CheckAsync(CancellationToken.None));
        Assert.Contains("credentials were refused", error.Message);
        Assert.Contains("Storage:S3:SecretKey", error.Message);
    }

    [Fact]
    public async Task No_credentials_anywhere_is_reported_naming_the_key_options()
    {
        Assert.True(Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID") is null && Environment.GetEnvironmentVariable("AWS_PROFILE") is null,
            "this test needs an environment without AWS credentials");
        // Without keys the SDK's default chain is used; on a machine that is not in a cloud it finds nothing. The
        // instance metadata lookup is switched off so the test does not wait for 169.254.169.254 to time out.
        Environment.SetEnvironmentVariable("AWS_EC2_METADATA_DISABLED", "true");
        using var store = new S3ObjectStore(TestBucket.Settings(_bucket.Name) with { AccessKey = null, SecretKey = null });
        var error = await Assert.ThrowsAsync<StorageUnavailableException>(() => store.CheckAsync(CancellationToken.None));
        Assert.Contains("no credentials were found", error.Message);
        Assert.Contains("Storage:S3:AccessKey", error.Message);
    }

    [Fact]
    public async Task An_unreachable_endpoint_is_reported_naming_the_url_option()
    {
        using var store = new S3ObjectStore(TestBucket.Settings(_bucket.Name, serviceUrl: $"http://127.0.0.1:{ClosedPort()}"));
        var error = await Assert.ThrowsAsync<StorageUnavailableException>(() => new S3JobBlobStore(store).PutAsync("x"u8.ToArray(), CancellationToken.None));
        Assert.Contains("could not be reached", error.Message);
        Assert.Contains("Storage:S3:ServiceUrl", error.Message);
    }

    /// <summary>A loopback port nothing listens on: bound, read, then released.</summary>
    internal static int ClosedPort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
