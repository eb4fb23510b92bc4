using System.Collections.Concurrent;
using Iris.Core.Imaging;

namespace Iris.Core.Transforms;

/// <summary>
/// Encoded results on disk, one file per key (<c>{key}.{width}x{height}.{format}</c>), bounded in total size: when a write takes the
/// total past the bound, the least recently used entries are deleted until it fits. Use order lives in memory and in
/// each file's modification time (touched on every hit), so it survives a restart.
/// </summary>
public sealed class TransformResultCache
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new();
    private readonly Lock _evictionLock = new();
    private readonly string _directory;
    private long _totalBytes;
    private long _clock; // a use counter, not time: two uses in the same millisecond still have an order
    private bool _scanned;

    private sealed class Entry(string path, long size, ImageFormat format, int width, int height, long lastUse)
    {
        public string Path { get; } = path;
        public long Size { get; } = size;
        public ImageFormat Format { get; } = format;
        public int Width { get; } = width;
        public int Height { get; } = height;
        public long LastUse = lastUse;
    }

    public TransformResultCache(string directory, long maxBytes)
    {
        _directory = Path.GetFullPath(directory);
        MaxBytes = maxBytes;
    }

    public long MaxBytes { get; }
    public bool Enabled => MaxBytes > 0;
    public long TotalBytes => Interlocked.Read(ref _totalBytes);
    public int Count => _entries.Count;

    public async Task<TransformResult?> GetAsync(string key, CancellationToken cancellationToken)
    {
        if (!Enabled) return null;
        EnsureScanned();
        if (!_entries.TryGetValue(key, out var entry)) return null;
        try
        {
            var bytes = await File.ReadAllBytesAsync(entry.Path, cancellationToken);
            entry.LastUse = Interlocked.Increment(ref _clock);
            File.SetLastWriteTimeUtc(entry.Path, DateTime.UtcNow);
            return new TransformResult(bytes, entry.Format, entry.Width, entry.Height);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            Forget(key);
            return null;
        }
    }

    public async Task PutAsync(string key, TransformResult result, CancellationToken cancellationToken)
    {
        if (!Enabled || result.Bytes.Length > MaxBytes) return;
        EnsureScanned();
        Directory.CreateDirectory(_directory);
        var path = Path.Combine(_directory, $"{key}.{result.Width}x{result.Height}.{result.Format.Name()}");
        // The scan after a restart takes any file under a cache name as whole, so its bytes are flushed before the rename.
        // A lost rename only loses an entry, so the directory is not flushed.
        await Storage.DurableFile.WriteAsync(path, result.Bytes, overwrite: true, cancellationToken, flushDirectory: false);
        var entry = new Entry(path, result.Bytes.Length, result.Format, result.Width, result.Height, Interlocked.Increment(ref _clock));
        if (_entries.TryRemove(key, out var replaced))
            Interlocked.Add(ref _totalBytes, -replaced.Size);
        _entries[key] = entry;
        Interlocked.Add(ref _totalBytes, entry.Size);
        Evict();
    }

    private void Evict()
    {
        if (TotalBytes <= MaxBytes) return;
        lock (_evictionLock)
        {
            // ConcurrentDictionary.ToArray is one atomic snapshot; LINQ over the dictionary itself sizes its buffer from
            // Count and then copies, which throws when a concurrent write adds an entry in between.
            foreach (var (key, _) in _entries.ToArray().OrderBy(e => e.Value.LastUse))
            {
                if (TotalBytes <= MaxBytes) break;
                if (_entries.TryGetValue(key, out var entry))
                {
                    try { File.Delete(entry.Path); } catch (IOException) { continue; }
                    Forget(key);
                }
            }
        }
    }

    private void Forget(string key)
    {
        if (_entries.TryRemove(key, out var removed))
            Interlocked.Add(ref _totalBytes, -removed.Size);
    }

    /// <summary>Picks up what an earlier run left on disk, oldest use first, the first time the cache is used.</summary>
    private void EnsureScanned()
    {
        if (_scanned) return;
        lock (_evictionLock)
        {
            if (_scanned) return;
            if (Directory.Exists(_directory))
            {
                foreach (var file in new DirectoryInfo(_directory).EnumerateFiles().OrderBy(f => f.LastWriteTimeUtc))
                {
                    if (file.Name.EndsWith(".tmp", StringComparison.Ordinal))
                    {
                        try { file.Delete(); } catch (IOException) { }
                        continue;
                    }
                    // {key}.{width}x{height}.{format}
                    var parts = file.Name.Split('.');
                    var size = parts.Length == 3 ? parts[1].Split('x') : [];
                    if (parts.Length != 3 || size.Length != 2 || !int.TryParse(size[0], out var width) || !int.TryParse(size[1], out var height)
                        || !Enum.TryParse<ImageFormat>(parts[2], ignoreCase: true, out var format)) continue;
                    var entry = new Entry(file.FullName, file.Length, format, width, height, Interlocked.Increment(ref _clock));
                    if (_entries.TryAdd(parts[0], entry))
                        Interlocked.Add(ref _totalBytes, entry.Size);
                }
            }
            _scanned = true;
        }
        Evict();
    }
}
