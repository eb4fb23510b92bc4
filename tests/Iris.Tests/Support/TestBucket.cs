using Amazon.S3.Model;
using Iris.Core.Storage;

namespace Iris.Tests.Support;

/// <summary>
/// A fresh bucket on the test S3 server (s3rver, <see cref="TestServices.S3"/>), emptied and deleted on dispose, with
/// the Iris settings that point at it. s3rver knows one key pair, S3RVER/S3RVER; it refuses other access key ids but
/// does not verify SigV4 signatures, so a wrong secret goes unnoticed there (a real S3 refuses it with SignatureDoesNotMatch).
/// </summary>
public sealed class TestBucket : IAsyncDisposable
{
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";

    private TestBucket(string name, string prefix)
    {
        Name = name;
        Prefix = prefix;
        Store = new S3ObjectStore(Settings(name, prefix));
    }

    public string Name { get; }
    public string Prefix { get; }

    /// <summary>A client of the bucket, under <see cref="Prefix"/>.</summary>
    public S3ObjectStore Store { get; }

    public static S3StorageSettings Settings(string bucket, string prefix = "", string? serviceUrl = null, string accessKey = AccessKey) =>
        new(serviceUrl ?? TestServices.S3, "us-east-1", bucket, prefix, accessKey, SecretKey, ForcePathStyle: true, TimeSpan.FromSeconds(10), MaxRetries: 1);

    public static async Task<TestBucket> CreateAsync(string prefix = "iris/")
    {
        var bucket = new TestBucket("iris-test-" + Guid.NewGuid().ToString("N")[..12], prefix);
        await bucket.Store.Client.PutBucketAsync(bucket.Name);
        return bucket;
    }

    /// <summary>Configuration for an Iris host whose images and job inputs live in this bucket.</summary>
    public Dictionary<string, string?> HostSettings() => new()
    {
        ["Storage:Provider"] = "s3",
        ["Storage:S3:ServiceUrl"] = TestServices.S3,
        ["Storage:S3:Bucket"] = Name,
        ["Storage:S3:Prefix"] = Prefix,
        ["Storage:S3:AccessKey"] = AccessKey,
        ["Storage:S3:SecretKey"] = SecretKey,
        ["Storage:S3:MaxRetries"] = "1",
    };

    /// <summary>Every key in the bucket, whatever its prefix.</summary>
    public async Task<List<string>> KeysAsync()
    {
        var response = await Store.Client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Name });
        return response.S3Objects?.Select(o => o.Key).ToList() ?? [];
    }

    public async Task DeleteAsync()
    {
        foreach (var key in await KeysAsync())
            await Store.Client.DeleteObjectAsync(Name, key);
        await Store.Client.DeleteBucketAsync(Name);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await DeleteAsync();
        }
        catch (Amazon.S3.AmazonS3Exception e) when (e.ErrorCode == "NoSuchBucket")
        {
            // The test deleted it itself.
        }
        Store.Dispose();
    }
}
