namespace Iris.Core.Storage;

/// <summary>
/// Whether a local directory takes a write, found by writing (and deleting) a small file in it, or in its nearest
/// existing parent when it is not created yet: permissions, a read-only mount and a full disk all show, which
/// <c>Directory.Exists</c> or an access check would not.
/// </summary>
public static class LocalDirectoryProbe
{
    /// <summary>A page: small enough to cost nothing, large enough that a full disk refuses it.</summary>
    private const int ProbeBytes = 4096;

    /// <summary>Null when a file can be written there; otherwise the reason, from the file system.</summary>
    public static string? WhyNotWritable(string directory)
    {
        var existing = Path.GetFullPath(directory);
        while (!Directory.Exists(existing) && Path.GetDirectoryName(existing) is { } parent) existing = parent;
        var probe = Path.Combine(existing, $".iris-write-probe-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            using (var file = new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1))
            {
                // No fsync: file systems reserve space when written to (ext4's delayed allocation included), so a full
                // disk refuses the write itself, and readiness probes stay cheap.
                file.Write(new byte[ProbeBytes]);
            }
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return e.Message;
        }
        finally
        {
            try
            {
                File.Delete(probe);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Nothing was created, or it cannot be removed from here either: the probe's reason already says why.
            }
        }
    }
}
