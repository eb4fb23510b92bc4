using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;

namespace Iris.Core.Models;

public enum ModelFileState { Ok, Missing, SizeMismatch, ChecksumMismatch }

public sealed record ModelFileCheck(string Path, ModelFileState State, string? Detail = null);

/// <summary>
/// The local model cache: one folder per model under <see cref="CacheDirectory"/>. Files arrive through a
/// <c>.part</c> file that is verified (size, sha256) and then renamed into place, so a reader never sees a
/// partial or corrupt file under its real name.
/// </summary>
public sealed class ModelStore(string cacheDirectory, string? mirrorDirectory, ModelDownloader downloader, ILogger<ModelStore>? logger = null)
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _pullLocks = new(StringComparer.OrdinalIgnoreCase);

    public string CacheDirectory { get; } = Path.GetFullPath(cacheDirectory);
    public string? MirrorDirectory { get; } = string.IsNullOrWhiteSpace(mirrorDirectory) ? null : Path.GetFullPath(mirrorDirectory);

    public string ModelDirectory(ModelManifest manifest) => Path.Combine(CacheDirectory, manifest.Name);

    public string FilePath(ModelManifest manifest, string relativePath) => Path.Combine(ModelDirectory(manifest), relativePath);

    /// <summary>True when every file is present with the declared size (sha256 is checked by <see cref="Verify"/>).</summary>
    public bool IsInstalled(ModelManifest manifest) =>
        manifest.Files.All(f => new FileInfo(FilePath(manifest, f.Path)) is { Exists: true } info && (f.Bytes is null || info.Length == f.Bytes));

    public IReadOnlyList<ModelFileCheck> Verify(ModelManifest manifest) =>
        manifest.Files.Select(f => CheckFile(FilePath(manifest, f.Path), f)).ToList();

    public async Task PullAsync(ModelManifest manifest, bool force = false, IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        var gate = _pullLocks.GetOrAdd(manifest.Name, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            Directory.CreateDirectory(ModelDirectory(manifest));
            foreach (var file in manifest.Files)
            {
                var target = FilePath(manifest, file.Path);
                if (!force && CheckFile(target, file).State == ModelFileState.Ok)
                {
                    progress?.Report($"{manifest.Name}/{file.Path}: already present and verified");
                    continue;
                }
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                await FetchAsync(manifest, file, target, progress, cancellationToken);
            }
        }
        finally
        {
            gate.Release();
        }
    }

    public bool Remove(ModelManifest manifest)
    {
        var directory = ModelDirectory(manifest);
        if (!Directory.Exists(directory)) return false;
        // A user's own manifest lives in the folder too; keep it so the model stays known and can be pulled again.
        var userManifest = Path.Combine(directory, "manifest.json");
        foreach (var file in manifest.Files)
        {
            var path = FilePath(manifest, file.Path);
            if (Path.GetFullPath(path) == Path.GetFullPath(userManifest)) continue;
            File.Delete(path);
            File.Delete(path + ".part");
        }
        if (!File.Exists(userManifest) && !Directory.EnumerateFileSystemEntries(directory, "*", SearchOption.AllDirectories).Any(File.Exists))
            Directory.Delete(directory, recursive: true);
        return true;
    }

    private async Task FetchAsync(ModelManifest manifest, ModelFile file, string target, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var part = target + ".part";
        var failures = new List<string>();

        if (MirrorDirectory is not null)
        {
            var source = Path.Combine(MirrorDirectory, file.MirrorPath ?? Path.Combine(manifest.Name, file.Path));
            if (File.Exists(source))
            {
                progress?.Report($"{manifest.Name}/{file.Path}: copying from mirror {source}");
                await using (var from = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true))
                await using (var to = new FileStream(part, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
                    await from.CopyToAsync(to, cancellationToken);
                if (Commit(part, target, file, $"mirror file {source}", failures))
                    return;
            }
            else
            {
                failures.Add($"not in the mirror ({source})");
            }
        }

        foreach (var url in file.Urls)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                failures.Add($"'{url}' is not an http(s) URL");
                continue;
            }
            progress?.Report($"{manifest.Name}/{file.Path}: downloading {uri}");
            try
            {
                await downloader.DownloadAsync(uri, part, file.Bytes, null, cancellationToken);
            }
            catch (Exception e) when (e is ModelPullException or ModelFileIntegrityException or HttpRequestException or IOException)
            {
                File.Delete(part);
                failures.Add(e.Message);
                continue;
            }
            if (Commit(part, target, file, uri.ToString(), failures))
                return;
        }

        if (MirrorDirectory is null && file.Urls.Count == 0)
            failures.Add("no mirror is configured (Models:Mirror) and the manifest lists no download URL");
        throw new ModelPullException($"Could not get {manifest.Name}/{file.Path}: {string.Join("; ", failures)}.");
    }

    private bool Commit(string part, string target, ModelFile file, string origin, List<string> failures)
    {
        var check = CheckFile(part, file);
        if (check.State != ModelFileState.Ok)
        {
            File.Delete(part);
            failures.Add($"{origin} was rejected: {check.Detail}");
            logger?.LogWarning("Rejected {Origin}: {Detail}", origin, check.Detail);
            return false;
        }
        File.Move(part, target, overwrite: true);
        return true;
    }

    private static ModelFileCheck CheckFile(string path, ModelFile file)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
            return new(file.Path, ModelFileState.Missing, "file is missing");
        if (file.Bytes is { } bytes && info.Length != bytes)
            return new(file.Path, ModelFileState.SizeMismatch, $"size is {info.Length:N0} bytes, expected {bytes:N0}");
        if (file.Sha256 is { } expected)
        {
            using var stream = info.OpenRead();
            var actual = Convert.ToHexStringLower(SHA256.HashData(stream));
            if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
                return new(file.Path, ModelFileState.ChecksumMismatch, $"sha256 is {actual}, expected {expected.ToLowerInvariant()}");
        }
        return new(file.Path, ModelFileState.Ok);
    }
}
