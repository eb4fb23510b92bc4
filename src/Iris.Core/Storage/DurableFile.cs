using System.Runtime.InteropServices;

namespace Iris.Core.Storage;

/// <summary>
/// Writes a file that, after a crash or a power loss at any moment, is either whole under its name or absent. The bytes
/// go to a temporary file beside it, flushed to disk before the rename: without that flush, a file system with delayed
/// allocation (ext4, XFS) can commit the rename first and leave an empty or short file under the final name. Then the
/// directory is flushed, so that the new name itself survives.
/// </summary>
public static class DurableFile
{
    /// <summary>Writes <paramref name="data"/> to <paramref name="path"/>; the temporary file never outlives the call.</summary>
    /// <param name="flushDirectory">False where losing the new name only loses a copy kept for speed (a cache).</param>
    public static async Task WriteAsync(string path, ReadOnlyMemory<byte> data, bool overwrite, CancellationToken cancellationToken, bool flushDirectory = true)
    {
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1, FileOptions.Asynchronous))
            {
                await file.WriteAsync(data, cancellationToken);
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite);
            if (flushDirectory) FlushDirectory(Path.GetDirectoryName(path)!);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    /// <summary>
    /// fsync on the directory, which .NET cannot open as a file. Windows has no such call and needs none: NTFS journals
    /// the rename with the file's metadata. A file system that cannot flush a directory at all (EINVAL: some FUSE and
    /// network mounts a shared Jobs:InputDirectory may live on) commits renames its own way, and the write stands.
    /// </summary>
    public static void FlushDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return;
        var descriptor = open(directory, 0 /* O_RDONLY */);
        if (descriptor < 0)
            throw new IOException($"Could not open {directory} to flush it (errno {Marshal.GetLastPInvokeError()}).");
        try
        {
            if (fsync(descriptor) != 0 && Marshal.GetLastPInvokeError() is var errno && errno != EINVAL)
                throw new IOException($"Could not flush {directory} to disk (errno {errno}).");
        }
        finally
        {
            _ = close(descriptor);
        }
    }

    private const int EINVAL = 22; // the same number on Linux and macOS

    [DllImport("libc", SetLastError = true)]
    private static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int fsync(int descriptor);

    [DllImport("libc")]
    private static extern int close(int descriptor);
}
