using Amazon.S3;
using Iris.Core.Imaging;
using Iris.Core.Sources;
using Iris.Core.Storage;

namespace Iris.Core.Transforms.Imgproxy;

/// <summary>
/// Reads an imgproxy source URL's bytes: <c>http(s)://</c> through the remote fetcher (Sources rules: allowed hosts,
/// no private networks, byte limit), <c>local:///path</c> under a configured root (off unless one is set; a path that
/// leaves the root, by <c>..</c> or a symbolic link, is refused), <c>s3://bucket/key</c> through the configured S3
/// store's client, and <c>iris://{id}</c> for an image stored with POST /api/v1/upload.
/// </summary>
public sealed class ImgproxySourceReader(RemoteImageFetcher fetcher, IBlobStore blobs, ImageLimits limits, string localRoot, S3ObjectStore? s3)
{
    public async Task<byte[]> ReadAsync(string source, CancellationToken cancellationToken)
    {
        // Read as written: URI parsing would resolve "..", and the root check must see it.
        if (source.StartsWith("local://", StringComparison.Ordinal))
            return await ReadLocalAsync(source["local://".Length..], cancellationToken);
        if (!Uri.TryCreate(source, UriKind.Absolute, out var url))
            throw Invalid($"The source '{Shorten(source)}' is not an absolute URL (http, https, local, s3 or iris).");
        switch (url.Scheme)
        {
            case "http" or "https":
                return await fetcher.FetchAsync(url, cancellationToken);
            case "s3":
                return await ReadS3Async(url.Host, Uri.UnescapeDataString(url.AbsolutePath.TrimStart('/')), cancellationToken);
            case "iris":
                var id = url.Host;
                if (!BlobIds.IsValid(id)) throw Invalid($"iris://{Shorten(id)} is not a stored image id (32 hex characters).");
                return await blobs.GetAsync(id, cancellationToken) ?? throw new BlobNotFoundException(id);
            default:
                throw Invalid($"Sources with the scheme '{url.Scheme}' are not supported; use http(s)://, local:///, s3:// or iris://.");
        }
    }

    private async Task<byte[]> ReadLocalAsync(string path, CancellationToken cancellationToken)
    {
        if (localRoot.Length == 0)
            throw new SourceNotAllowedException("local:// sources are off; set Transforms:LocalRoot to the directory they may read from.");
        // Kestrel refuses %00 in a path, but a base64 source URL can still carry one; no file name holds it.
        if (path.Contains('\0')) throw Invalid("A local:// path cannot contain a NUL character.");
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(localRoot));
        var full = Path.GetFullPath(Path.Combine(root, path.TrimStart('/')));
        if (!Inside(root, full))
            throw new SourceNotAllowedException("The local:// path leaves Transforms:LocalRoot.");
        var file = new FileInfo(full);
        if (!file.Exists) throw new SourceFetchException($"No file at local://{path}.", 404);
        // A symbolic link inside the root may point outside it; what counts is where the bytes really are.
        var real = file.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full;
        if (!Inside(root, Path.GetFullPath(real)) || HasLinkedDirectory(root, full))
            throw new SourceNotAllowedException("The local:// path leaves Transforms:LocalRoot through a symbolic link.");
        if (file.Length > limits.MaxBytes) throw new ImageTooLargeException(file.Length, limits.MaxBytes);
        return await File.ReadAllBytesAsync(full, cancellationToken);
    }

    private static bool Inside(string root, string path) =>
        path.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    /// <summary>True when a directory between the root and the file is a symbolic link leading out of the root.</summary>
    private static bool HasLinkedDirectory(string root, string full)
    {
        for (var dir = Path.GetDirectoryName(full); dir is not null && dir.Length > root.Length; dir = Path.GetDirectoryName(dir))
        {
            if (new DirectoryInfo(dir).ResolveLinkTarget(returnFinalTarget: true) is { } target && !Inside(root, Path.GetFullPath(target.FullName)))
                return true;
        }
        return false;
    }

    private async Task<byte[]> ReadS3Async(string bucket, string key, CancellationToken cancellationToken)
    {
        if (s3 is null)
            throw new SourceNotAllowedException("s3:// sources are read through the configured S3 store; set Storage:Provider=s3 and Storage:S3.");
        if (bucket.Length == 0 || key.Length == 0) throw Invalid("An s3:// source is s3://{bucket}/{key}.");
        try
        {
            using var response = await s3.Client.GetObjectAsync(bucket, key, cancellationToken);
            if (response.ContentLength > limits.MaxBytes) throw new ImageTooLargeException(response.ContentLength, limits.MaxBytes);
            using var buffer = new MemoryStream(response.ContentLength > 0 ? (int)response.ContentLength : 0);
            await response.ResponseStream.CopyToAsync(buffer, cancellationToken);
            return buffer.ToArray();
        }
        catch (AmazonS3Exception e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            throw new SourceFetchException($"No object s3://{bucket}/{key}.", 404);
        }
        catch (AmazonS3Exception e)
        {
            throw new SourceFetchException($"s3://{bucket}/{key} could not be read: {e.Message}", 502);
        }
    }

    /// <summary>The source's file name without its extension, for Content-Disposition when the URL names none.</summary>
    public static string NameOf(string source)
    {
        var path = Uri.TryCreate(source, UriKind.Absolute, out var url) ? url.AbsolutePath : source;
        var name = Path.GetFileNameWithoutExtension(Uri.UnescapeDataString(path.TrimEnd('/')));
        return name.Length > 0 ? name : "image";
    }

    private static string Shorten(string text) => text.Length > 100 ? text[..100] + "…" : text;

    private static InvalidTransformException Invalid(string message) => new(message, "source");
}
