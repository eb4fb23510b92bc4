namespace Iris.Core.Jobs;

/// <summary>Holds job input images between submission and processing.</summary>
public interface IJobBlobStore
{
    /// <summary>Stores the bytes durably (flushed to disk) and returns their reference.</summary>
    Task<string> PutAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>The bytes of <paramref name="reference"/>, or null if they are gone.</summary>
    Task<byte[]?> GetAsync(string reference, CancellationToken cancellationToken);

    Task DeleteAsync(string reference, CancellationToken cancellationToken);
}

/// <summary>Job input references: random ids of letters and digits, so none can name anything outside its store.</summary>
public static class JobBlobReferences
{
    public static string New() => Guid.NewGuid().ToString("N");

    public static string Checked(string reference) =>
        reference.Length == 0 || reference.Any(c => !char.IsAsciiLetterOrDigit(c))
            ? throw new ArgumentException($"'{reference}' is not a blob reference.", nameof(reference))
            : reference;
}

/// <summary>
/// Job inputs as files in one directory, named by a random id, each a <see cref="Storage.DurableFile"/>, so neither a
/// reader nor a crash ever leaves a partial file. Workers on other machines need this directory shared (e.g. NFS).
/// </summary>
public sealed class LocalDiskJobBlobStore : IJobBlobStore
{
    private readonly string _directory;

    public LocalDiskJobBlobStore(string directory)
    {
        _directory = Path.GetFullPath(directory);
        Directory.CreateDirectory(_directory);
    }

    public async Task<string> PutAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var reference = JobBlobReferences.New();
        try
        {
            // The job row that names it commits next: the input must be on disk, under its name, before it does.
            await Storage.DurableFile.WriteAsync(PathOf(reference), data, overwrite: false, cancellationToken);
        }
        catch (IOException e) when (Storage.StorageFullException.IsDiskFull(e))
        {
            throw new Storage.StorageFullException("job input store", "Jobs:InputDirectory", _directory, e);
        }
        return reference;
    }

    public async Task<byte[]?> GetAsync(string reference, CancellationToken cancellationToken)
    {
        try
        {
            return await File.ReadAllBytesAsync(PathOf(reference), cancellationToken);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    public Task DeleteAsync(string reference, CancellationToken cancellationToken)
    {
        File.Delete(PathOf(reference));
        return Task.CompletedTask;
    }

    private string PathOf(string reference) => Path.Combine(_directory, JobBlobReferences.Checked(reference));
}
