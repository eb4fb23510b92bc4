using System.Net;
using System.Runtime.InteropServices;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Iris.Core.Storage;

/// <summary>Where and how to reach an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, Cloudflare R2, …).</summary>
/// <param name="ServiceUrl">The endpoint, e.g. http://minio:9000; null for AWS itself (the region picks the endpoint).</param>
/// <param name="Region">Signing region; null = the SDK's default (AWS_REGION, profile) for AWS, us-east-1 elsewhere.</param>
/// <param name="Prefix">Prepended to every key, e.g. <c>iris/</c>, so one bucket can hold several deployments.</param>
/// <param name="AccessKey">With <paramref name="SecretKey"/>; both null = the SDK's default credential chain (environment, profile, instance role).</param>
/// <param name="ForcePathStyle"><c>http://host/bucket/key</c> rather than <c>http://bucket.host/key</c>; most self-hosted servers need it.</param>
public sealed record S3StorageSettings(
    string? ServiceUrl, string? Region, string Bucket, string Prefix, string? AccessKey, string? SecretKey,
    bool ForcePathStyle, TimeSpan Timeout, int MaxRetries)
{
    /// <summary>Where the bucket is, for messages: the endpoint (or AWS) and the bucket.</summary>
    public string Describe() => $"bucket '{Bucket}' at {ServiceUrl ?? "AWS S3"}";
}

/// <summary>
/// Objects in one S3-compatible bucket under a key prefix: the one S3 client that the image store and the job input
/// store share, each under its own sub-prefix. Missing objects are null or false; anything else that goes wrong with
/// the bucket (unreachable, missing, refused credentials, timed out after the SDK's retries) is a
/// <see cref="StorageUnavailableException"/> that says which bucket and why, never a raw SDK exception.
/// </summary>
public sealed class S3ObjectStore : IDisposable
{
    private readonly AmazonS3Client _client;

    public S3ObjectStore(S3StorageSettings settings)
    {
        Settings = settings;
        var config = new AmazonS3Config
        {
            ForcePathStyle = settings.ForcePathStyle,
            Timeout = settings.Timeout,
            MaxErrorRetry = settings.MaxRetries,
            RetryMode = RequestRetryMode.Standard,
            // Newer SDKs add CRC checksums in aws-chunked trailers by default, which several S3-compatible servers
            // (older MinIO, Ceph, s3rver) reject; checksums only where an operation requires them works everywhere.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (settings.ServiceUrl is { } url)
        {
            config.ServiceURL = url;
            config.AuthenticationRegion = settings.Region ?? "us-east-1";
        }
        else if (settings.Region is { } region)
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(region);
        }
        _client = settings.AccessKey is { } accessKey && settings.SecretKey is { } secretKey
            ? new AmazonS3Client(new BasicAWSCredentials(accessKey, secretKey), config)
            : new AmazonS3Client(config);
    }

    public S3StorageSettings Settings { get; }

    /// <summary>The client itself, for tests and tools that create buckets.</summary>
    public IAmazonS3 Client => _client;

    public string KeyFor(string key) => Settings.Prefix + key;

    public Task PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        Call($"store {key}", async () =>
        {
            var stream = MemoryMarshal.TryGetArray(data, out var segment)
                ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
                : new MemoryStream(data.ToArray(), writable: false);
            await _client.PutObjectAsync(new PutObjectRequest
            {
                BucketName = Settings.Bucket,
                Key = KeyFor(key),
                InputStream = stream,
                AutoCloseStream = true,
                ContentType = "application/octet-stream",
                UseChunkEncoding = false,
            }, cancellationToken);
            return true;
        }, cancellationToken);

    /// <summary>The object's bytes, or null when there is no such object.</summary>
    public Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken) =>
        Call($"read {key}", async () =>
        {
            try
            {
                using var response = await _client.GetObjectAsync(Settings.Bucket, KeyFor(key), cancellationToken);
                using var buffer = response.ContentLength > 0 ? new MemoryStream((int)response.ContentLength) : new MemoryStream();
                await response.ResponseStream.CopyToAsync(buffer, cancellationToken);
                return buffer.ToArray();
            }
            catch (AmazonS3Exception e) when (IsMissingObject(e))
            {
                return (byte[]?)null;
            }
        }, cancellationToken);

    public Task<bool> ExistsAsync(string key, CancellationToken cancellationToken) =>
        Call($"look up {key}", async () =>
        {
            try
            {
                await _client.GetObjectMetadataAsync(Settings.Bucket, KeyFor(key), cancellationToken);
                return true;
            }
            catch (AmazonS3Exception e) when (IsMissingObject(e))
            {
                return false;
            }
        }, cancellationToken);

    /// <summary>Deletes the object; S3 answers the same whether or not it existed, so this cannot tell.</summary>
    public Task DeleteAsync(string key, CancellationToken cancellationToken) =>
        Call($"delete {key}", async () =>
        {
            await _client.DeleteObjectAsync(Settings.Bucket, KeyFor(key), cancellationToken);
            return true;
        }, cancellationToken);

    /// <summary>
    /// Lists at most one key under the prefix: proves the endpoint answers, the bucket exists and the credentials may
    /// use it. Throws <see cref="StorageUnavailableException"/> saying which of those failed.
    /// </summary>
    public Task CheckAsync(CancellationToken cancellationToken) =>
        Call("list", async () =>
        {
            await _client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Settings.Bucket, Prefix = Settings.Prefix, MaxKeys = 1 }, cancellationToken);
            return true;
        }, cancellationToken);

    // A 404 without NoSuchKey (HEAD requests carry no error code) is still a missing object unless the bucket is gone.
    private static bool IsMissingObject(AmazonS3Exception e) =>
        e.StatusCode == HttpStatusCode.NotFound && e.ErrorCode is not "NoSuchBucket";

    private async Task<T> Call<T>(string operation, Func<Task<T>> action, CancellationToken cancellationToken)
    {
        try
        {
            return await action();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is AmazonServiceException or AmazonClientException or HttpRequestException or IOException or OperationCanceledException)
        {
            throw new StorageUnavailableException(Explain(operation, e), e);
        }
    }

    private string Explain(string operation, Exception e)
    {
        var where = Settings.Describe();
        var reason = e switch
        {
            AmazonS3Exception { ErrorCode: "NoSuchBucket" } =>
                $"the bucket does not exist (create it, or fix Storage:S3:Bucket)",
            AmazonS3Exception { ErrorCode: "InvalidAccessKeyId" or "SignatureDoesNotMatch" or "AccessDenied" or "InvalidToken" or "ExpiredToken" } s3 =>
                $"the credentials were refused ({s3.ErrorCode}: check Storage:S3:AccessKey and Storage:S3:SecretKey, or the default credential chain)",
            AmazonServiceException { StatusCode: HttpStatusCode.Forbidden } s3 =>
                $"access was denied ({s3.ErrorCode ?? "403"}: check Storage:S3:AccessKey and Storage:S3:SecretKey)",
            AmazonServiceException s3 => $"the server answered {(int)s3.StatusCode} {s3.ErrorCode}: {s3.Message}",
            // The default credential chain found nothing; its message lists every provider it tried.
            AmazonClientException when e.Message.Contains("credentials", StringComparison.OrdinalIgnoreCase) =>
                "no credentials were found (set Storage:S3:AccessKey and Storage:S3:SecretKey, or provide them to the AWS SDK's default chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile, an instance or pod role)",
            OperationCanceledException => $"no answer within Storage:S3:TimeoutSeconds ({Settings.Timeout.TotalSeconds:0} s) after {Settings.MaxRetries} retries",
            _ => $"the endpoint could not be reached ({Innermost(e).Message}; check Storage:S3:ServiceUrl)",
        };
        return $"S3 storage ({where}) could not {operation}: {reason}.";
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is { } inner) e = inner;
        return e;
    }

    public void Dispose() => _client.Dispose();
}

/// <summary>The image or job input store cannot be used right now (503): the message says which store and why.</summary>
public sealed class StorageUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
