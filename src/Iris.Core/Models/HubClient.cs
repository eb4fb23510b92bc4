using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace Iris.Core.Models;

/// <summary>A Hugging Face Hub repository at a revision: <c>hf:OWNER/NAME[@revision]</c>.</summary>
public sealed record HubReference(string Repository, string Revision)
{
    public const string Scheme = "hf:";

    public static bool IsHubReference(string text) => text.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase);

    public static HubReference Parse(string text)
    {
        var body = IsHubReference(text) ? text[Scheme.Length..] : text;
        var at = body.IndexOf('@');
        var repository = at < 0 ? body : body[..at];
        var revision = at < 0 ? "main" : body[(at + 1)..];
        if (!Regex.IsMatch(repository, @"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$") || revision.Length == 0 || revision.Contains(".."))
            throw new ArgumentException($"'{text}' is not a Hub model reference; write hf:OWNER/NAME or hf:OWNER/NAME@REVISION, e.g. hf:Xenova/clip-vit-base-patch32.");
        return new HubReference(repository, revision);
    }

    /// <summary>The model name a pull gets unless one is given: the repository's name, lower-cased.</summary>
    public string DefaultModelName => Repository[(Repository.IndexOf('/') + 1)..].ToLowerInvariant();
}

/// <summary>One file of a Hub repository, with what the Hub says about its content.</summary>
public sealed record HubFile(string Path, long? Size, string? Sha256, string? GitBlobSha1);

public sealed record HubPullResult(ModelManifest Manifest, string Commit, string Directory);

/// <summary>
/// Pulls a repository from the Hugging Face Hub (or any server with its URL layout) into the model cache and writes a
/// manifest for it, so a pulled captioner or CLIP is served with no hand-written manifest.
/// <list type="bullet">
/// <item>The file list and hashes come from <c>{endpoint}/api/models/{repo}/revision/{revision}?blobs=true</c>; files are
/// downloaded from <c>{endpoint}/{repo}/resolve/{commit}/{path}</c>, pinned to the commit the revision resolved to.</item>
/// <item>Where the listing gives no hashes, a HEAD on the resolve URL does: <c>X-Linked-Etag</c> / <c>X-Linked-Size</c>
/// carry an LFS file's sha256 and size (its body redirects to a CDN), <c>ETag</c> a small file's git blob sha1.</item>
/// <item>Downloads go through <see cref="ModelStore"/>: a <c>.part</c> file that resumes, size and sha256 checked before
/// the atomic rename. Small (non-LFS) files are checked against their git blob sha1.</item>
/// </list>
/// </summary>
public sealed class HubClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly Uri _endpoint;
    private readonly ModelStore _store;
    private readonly ILogger? _logger;

    /// <param name="http">Follows redirects (downloads); HttpClient drops the Authorization header when a GET is
    /// redirected to another host, so the token never reaches the CDN.</param>
    /// <param name="headClient">Does not follow redirects: for HEAD the hash headers are on the redirect itself.</param>
    public HubClient(Uri endpoint, string? token, string cacheDirectory, int downloadAttempts, HttpClient http, HttpClient headClient, ILogger? logger = null)
    {
        _endpoint = new Uri(endpoint.ToString().TrimEnd('/') + "/");
        _logger = logger;
        _http = http;
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("iris/1.0");
        if (!string.IsNullOrWhiteSpace(token))
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        _headClient = headClient;
        if (!string.IsNullOrWhiteSpace(token))
            _headClient.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        _store = new ModelStore(cacheDirectory, null, new ModelDownloader(_http, downloadAttempts));
    }

    private readonly HttpClient _headClient;

    public Uri ResolveUrl(HubReference reference, string revision, string path) =>
        new(_endpoint, $"{reference.Repository}/resolve/{Uri.EscapeDataString(revision)}/{string.Join('/', path.Split('/').Select(Uri.EscapeDataString))}");

    /// <summary>The commit the revision points at, and every file in it.</summary>
    public async Task<(string Commit, IReadOnlyList<HubFile> Files)> ListAsync(HubReference reference, CancellationToken cancellationToken)
    {
        var url = new Uri(_endpoint, $"api/models/{reference.Repository}/revision/{Uri.EscapeDataString(reference.Revision)}?blobs=true");
        using var response = await _http.GetAsync(url, cancellationToken);
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            throw new ModelPullException($"{url} answered {(int)response.StatusCode}: the repository is private or gated. Set Models:HubToken (IRIS__Models__HubToken) to an access token that can read it.");
        if (response.StatusCode == HttpStatusCode.NotFound)
            throw new ModelPullException($"{url} answered 404: there is no model repository '{reference.Repository}' with revision '{reference.Revision}' at {_endpoint}.");
        if (!response.IsSuccessStatusCode)
            throw new ModelPullException($"{url} answered {(int)response.StatusCode} {response.ReasonPhrase}.");
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        var root = document.RootElement;
        var commit = root.TryGetProperty("sha", out var sha) && sha.ValueKind == JsonValueKind.String ? sha.GetString()! : reference.Revision;
        var files = new List<HubFile>();
        if (root.TryGetProperty("siblings", out var siblings))
            foreach (var s in siblings.EnumerateArray())
            {
                var path = s.GetProperty("rfilename").GetString()!;
                long? size = s.TryGetProperty("size", out var z) && z.ValueKind == JsonValueKind.Number ? z.GetInt64() : null;
                string? sha256 = null;
                if (s.TryGetProperty("lfs", out var lfs) && lfs.ValueKind == JsonValueKind.Object)
                {
                    sha256 = lfs.TryGetProperty("sha256", out var h) ? h.GetString() : lfs.TryGetProperty("oid", out var o) ? o.GetString() : null;
                    if (lfs.TryGetProperty("size", out var ls) && ls.ValueKind == JsonValueKind.Number) size = ls.GetInt64();
                }
                var blob = s.TryGetProperty("blobId", out var b) && b.ValueKind == JsonValueKind.String && sha256 is null ? b.GetString() : null;
                files.Add(new HubFile(path, size, sha256, blob));
            }
        return (commit, files);
    }

    /// <summary>What a HEAD on the resolve URL says: size and sha256 (LFS) or git blob sha1 (small files).</summary>
    public async Task<HubFile> DescribeAsync(HubReference reference, string commit, string path, CancellationToken cancellationToken)
    {
        var url = ResolveUrl(reference, commit, path);
        for (var hops = 0; hops < 5; hops++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Head, url);
            // Ask for the raw bytes' ETag, not that of a compressed representation.
            request.Headers.AcceptEncoding.ParseAdd("identity");
            using var response = await _headClient.SendAsync(request, cancellationToken);
            var linkedEtag = Header(response, "X-Linked-Etag");
            var linkedSize = Header(response, "X-Linked-Size");
            var etag = Header(response, "ETag");
            if (linkedEtag is not null || (int)response.StatusCode is >= 200 and < 300)
            {
                var hash = Unquote(linkedEtag ?? etag);
                long? size = long.TryParse(linkedSize, out var ls) ? ls : response.Content.Headers.ContentLength;
                return hash?.Length switch
                {
                    64 => new HubFile(path, size, hash.ToLowerInvariant(), null),
                    40 => new HubFile(path, size, null, hash.ToLowerInvariant()),
                    _ => new HubFile(path, size, null, null),
                };
            }
            // A relative redirect stays on the Hub (a renamed repository): follow it for the hash headers.
            if ((int)response.StatusCode is >= 300 and < 400 && response.Headers.Location is { } location)
            {
                url = location.IsAbsoluteUri ? location : new Uri(url, location);
                continue;
            }
            throw new ModelPullException($"HEAD {url} answered {(int)response.StatusCode} {response.ReasonPhrase}.");
        }
        throw new ModelPullException($"HEAD {url} redirected too often.");
    }

    /// <summary>
    /// Downloads the files matching <paramref name="patterns"/> (default: config files, tokenizer and the ONNX files Iris
    /// uses) into <c>{cache}/{modelName}/</c> and writes <c>manifest.json</c> there.
    /// </summary>
    public async Task<HubPullResult> PullAsync(HubReference reference, string modelName, IReadOnlyList<string> patterns, bool quantized, bool force,
        IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var (commit, all) = await ListAsync(reference, cancellationToken);
        progress?.Report($"{reference.Repository}@{reference.Revision} is commit {commit}; {all.Count} files");
        // The folder's manifest.json is Iris's own; a repository file of that name would clash with it.
        var selected = Select(all.Select(f => f.Path).Where(p => p != "manifest.json").ToList(), patterns, quantized)
            .Select(p => all.First(f => f.Path == p)).ToList();
        if (selected.Count == 0)
            throw new ModelPullException($"No file of {reference.Repository} matches {string.Join(", ", patterns.DefaultIfEmpty("the default patterns"))}. Its files: {string.Join(", ", all.Select(f => f.Path).Take(40))}.");
        if (!selected.Any(f => f.Path == "config.json"))
            throw new ModelPullException($"{reference.Repository} has no config.json among the selected files; Iris reads it to know what the model does.");

        var described = new List<HubFile>();
        foreach (var file in selected)
            described.Add(file.Size is not null && (file.Sha256 is not null || file.GitBlobSha1 is not null)
                ? file
                : await DescribeAsync(reference, commit, file.Path, cancellationToken));

        var download = new ModelManifest
        {
            Name = modelName,
            Task = "download",
            Files = described.Select(f => new ModelFile
            {
                Path = f.Path,
                Bytes = f.Size,
                Sha256 = f.Sha256,
                Urls = [ResolveUrl(reference, commit, f.Path).ToString()],
            }).ToList(),
        };
        download.Validate();
        // A manifest of an earlier pull lists files by sha256; remove it first so a half-updated folder is never served under it.
        var manifestPath = Path.Combine(_store.ModelDirectory(download), "manifest.json");
        if (File.Exists(manifestPath)) File.Delete(manifestPath);
        await _store.PullAsync(download, force, progress, cancellationToken);

        var files = new List<ModelFile>();
        foreach (var file in described)
        {
            var local = _store.FilePath(download, file.Path);
            CheckGitBlob(reference, file, local);
            await using var stream = File.OpenRead(local);
            files.Add(new ModelFile
            {
                Path = file.Path,
                Bytes = stream.Length,
                Sha256 = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken)),
                Urls = [ResolveUrl(reference, commit, file.Path).ToString()],
            });
        }

        var manifest = HubManifestBuilder.Build(modelName, reference, commit, _store.ModelDirectory(download), files, quantized);
        await File.WriteAllTextAsync(manifestPath, JsonSerializer.Serialize(manifest, ModelManifest.JsonOptions), cancellationToken);
        _logger?.LogInformation("Pulled {Repository}@{Commit} as {Model}", reference.Repository, commit, modelName);
        return new HubPullResult(manifest, commit, _store.ModelDirectory(download));
    }

    /// <summary>
    /// Pulls a catalog manifest that names a Hub repository at a pinned commit (<see cref="HubPin"/>) into the cache under
    /// the manifest's name. Every file is checked against what the Hub publishes at that commit (an LFS file's sha256 and
    /// size, a small file's git blob sha1) and against the sha256 the manifest pins; the manifest stays the catalog's own.
    /// </summary>
    public async Task PullPinnedAsync(ModelManifest manifest, HubPin pin, bool force, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var reference = pin.Reference;
        var (commit, all) = await ListAsync(reference, cancellationToken);
        progress?.Report($"{manifest.Name}: {reference.Repository}@{reference.Revision} is commit {commit}");
        var described = new List<(ModelFile File, HubFile Hub)>();
        foreach (var file in manifest.Files)
        {
            var hub = all.FirstOrDefault(f => f.Path == file.Path)
                ?? throw new ModelPullException($"{reference.Repository}@{commit} has no file '{file.Path}', which the manifest of {manifest.Name} lists.");
            if (hub.Size is null || (hub.Sha256 is null && hub.GitBlobSha1 is null))
                hub = await DescribeAsync(reference, commit, file.Path, cancellationToken);
            if (file.Sha256 is { } pinned && hub.Sha256 is { } published && !string.Equals(pinned, published, StringComparison.OrdinalIgnoreCase))
                throw new ModelPullException(
                    $"{reference.Repository}@{commit} publishes sha256 {published} for {file.Path}; the manifest of {manifest.Name} pins {pinned.ToLowerInvariant()}. Nothing was downloaded.");
            described.Add((file, hub));
        }
        var download = manifest with
        {
            Files = described.Select(d => d.File with
            {
                Sha256 = d.File.Sha256 ?? d.Hub.Sha256,
                Bytes = d.File.Bytes ?? d.Hub.Size,
                MirrorPath = null,
                Urls = [ResolveUrl(reference, commit, d.File.Path).ToString()],
            }).ToList(),
        };
        await _store.PullAsync(download, force, progress, cancellationToken);
        foreach (var (file, hub) in described)
            CheckGitBlob(reference, hub, _store.FilePath(download, file.Path));
    }

    /// <summary>A small (non-LFS) file has no sha256 on the Hub, only its git blob sha1: a mismatch deletes the file.</summary>
    private static void CheckGitBlob(HubReference reference, HubFile file, string local)
    {
        if (file.GitBlobSha1 is not { } expected) return;
        var actual = GitBlobSha1(local);
        if (string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase)) return;
        File.Delete(local);
        throw new ModelPullException($"{reference.Repository}/{file.Path}: git blob sha1 is {actual}, the Hub says {expected}; the file was deleted.");
    }

    /// <summary>
    /// The files to pull. Explicit patterns (globs: <c>*</c> within a folder, <c>**</c> across folders) win; otherwise the
    /// config and tokenizer files plus the one ONNX variant of each part Iris runs.
    /// </summary>
    public static IReadOnlyList<string> Select(IReadOnlyList<string> paths, IReadOnlyList<string> patterns, bool quantized)
    {
        if (patterns.Count > 0)
        {
            var regexes = patterns.Select(Glob).ToList();
            return paths.Where(p => regexes.Any(r => r.IsMatch(p))).ToList();
        }
        var suffix = quantized ? "_quantized.onnx" : ".onnx";
        string? Find(string stem) =>
            paths.FirstOrDefault(p => p == $"onnx/{stem}{suffix}") ?? paths.FirstOrDefault(p => p == $"{stem}{suffix}");
        var onnx = new List<string?> { Find("encoder_model"), Find("vision_model"), Find("text_model") };
        var merged = Find("decoder_model_merged");
        if (merged is not null) onnx.Add(merged);
        else
        {
            onnx.Add(Find("decoder_model"));
            onnx.Add(Find("decoder_with_past_model"));
        }
        var configs = paths.Where(p => !p.Contains('/') && (p.EndsWith(".json", StringComparison.Ordinal) || p.EndsWith(".txt", StringComparison.Ordinal)));
        return configs.Concat(onnx.OfType<string>()).Distinct().ToList();
    }

    internal static Regex Glob(string pattern)
    {
        var regex = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '*' && i + 1 < pattern.Length && pattern[i + 1] == '*')
            {
                regex.Append(".*");
                i++;
                if (i + 1 < pattern.Length && pattern[i + 1] == '/') i++;
            }
            else if (c == '*') regex.Append("[^/]*");
            else if (c == '?') regex.Append("[^/]");
            else regex.Append(Regex.Escape(c.ToString()));
        }
        return new Regex(regex.Append('$').ToString(), RegexOptions.CultureInvariant);
    }

    /// <summary>Git's object id of a file: sha1 of "blob {size}\0" followed by the content.</summary>
    public static string GitBlobSha1(string path)
    {
        using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        using var stream = File.OpenRead(path);
        sha1.AppendData(Encoding.ASCII.GetBytes($"blob {stream.Length}\0"));
        var buffer = new byte[1 << 16];
        int read;
        while ((read = stream.Read(buffer)) > 0) sha1.AppendData(buffer, 0, read);
        return Convert.ToHexStringLower(sha1.GetHashAndReset());
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault()
        : response.Content.Headers.TryGetValues(name, out var content) ? content.FirstOrDefault() : null;

    private static string? Unquote(string? etag) => etag?.Replace("W/", "").Trim('"');

    public void Dispose()
    {
        _http.Dispose();
        _headClient.Dispose();
    }
}
