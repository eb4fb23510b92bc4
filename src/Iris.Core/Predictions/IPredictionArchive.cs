using Iris.Core.Storage;

namespace Iris.Core.Predictions;

/// <summary>
/// Where the images of saved predictions are kept for retraining: in the image store's place (Storage:Directory, or
/// Storage:S3's bucket), under <c>predictions/</c>, at the path the prediction names. Unlike <see cref="IBlobStore"/>,
/// which files images by their content, the old service's clients and scripts expect one timestamped object per
/// prediction, so the path is chosen by the caller. Writing the same path again replaces it with the same bytes.
/// </summary>
public interface IPredictionArchive
{
    Task PutAsync(string path, ReadOnlyMemory<byte> image, CancellationToken cancellationToken);

    /// <summary>The archived bytes, or null.</summary>
    Task<byte[]?> GetAsync(string path, CancellationToken cancellationToken);
}

/// <summary>Archived images as files under a root directory, written to a temporary name, flushed and renamed into place.</summary>
public sealed class LocalDiskPredictionArchive(string root) : IPredictionArchive
{
    public string Root { get; } = Path.GetFullPath(root);

    public async Task PutAsync(string path, ReadOnlyMemory<byte> image, CancellationToken cancellationToken)
    {
        var target = FullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var temporary = $"{target}.{Guid.NewGuid():N}.tmp";
        try
        {
            await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, FileOptions.Asynchronous))
            {
                await file.WriteAsync(image, cancellationToken);
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, target, overwrite: true);
        }
        catch (IOException e) when (StorageFullException.IsDiskFull(e))
        {
            throw new StorageFullException("image store", "Storage:Directory", Root, e);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    public async Task<byte[]?> GetAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            return await File.ReadAllBytesAsync(FullPath(path), cancellationToken);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    private string FullPath(string path) => Path.Combine(Root, PredictionPaths.Checked(path));
}

/// <summary>Archived images as objects <c>{Prefix}{path}</c> in the image store's bucket.</summary>
public sealed class S3PredictionArchive(S3ObjectStore bucket) : IPredictionArchive
{
    public Task PutAsync(string path, ReadOnlyMemory<byte> image, CancellationToken cancellationToken) =>
        bucket.PutAsync(PredictionPaths.Checked(path), image, cancellationToken);

    public Task<byte[]?> GetAsync(string path, CancellationToken cancellationToken) =>
        bucket.GetAsync(PredictionPaths.Checked(path), cancellationToken);
}

/// <summary>The archive path of a prediction: <c>predictions/{user_uid}/{yyyyMMddTHHmmssffffffZ}_{uid}.{jpg|png}</c>, like the old service's timestamped keys.</summary>
public static class PredictionPaths
{
    public const string Prefix = "predictions/";

    public static string For(Guid userUid, DateTimeOffset createdAt, Guid uid, string extension) =>
        $"{Prefix}{userUid:D}/{createdAt.UtcDateTime:yyyyMMdd'T'HHmmssffffff'Z'}_{uid:N}.{extension}";

    /// <summary>Only paths this class makes: nothing stored can name a place outside the archive.</summary>
    public static string Checked(string path) =>
        path.StartsWith(Prefix, StringComparison.Ordinal) && !path.Contains("..", StringComparison.Ordinal)
        && path.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '-' or '_' or '.')
            ? path
            : throw new ArgumentException($"'{path}' is not a prediction archive path.", nameof(path));
}
