using System.Security.Cryptography;
using System.Text;
using Iris.Core.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Iris.Tests.Support;

/// <summary>
/// A real HTTP server on loopback in the Hugging Face Hub's URL layout, serving folders of the model mirror as
/// repositories: <c>/api/models/{repo}/revision/{rev}</c> (with <c>?blobs=true</c> sizes and LFS sha256),
/// <c>/{repo}/resolve/{rev}/{path}</c> (small files inline with their git blob sha1 as ETag; *.onnx as LFS files,
/// redirected to <c>/cdn/…</c> with X-Linked-Etag / X-Linked-Size), Range support on downloads, an optional
/// access token, and switches for dropped connections and corrupted bytes.
/// </summary>
public sealed class HubServer : IAsyncDisposable
{
    public const string Commit = "4f1c2b7e9a0d3c5b8e6f7a1d2c3b4a5f6e7d8c9b";

    private readonly WebApplication _app;
    private readonly Dictionary<string, Dictionary<string, byte[]>> _repositories = new();
    private int _abortsLeft;

    private HubServer(WebApplication app) => _app = app;

    public Uri Address { get; private set; } = null!;

    /// <summary>When set, the API and resolve URLs answer 401 without <c>Authorization: Bearer {token}</c>.</summary>
    public string? RequiredToken { get; set; }

    /// <summary>When false, the listing carries only file names, so hashes must come from HEAD requests.</summary>
    public bool ListBlobs { get; set; } = true;

    /// <summary>Paths whose downloaded bytes are altered (the advertised hashes stay those of the real file).</summary>
    public HashSet<string> Corrupt { get; } = [];

    public List<string> Requests { get; } = [];
    public List<string?> CdnAuthorizationHeaders { get; } = [];
    public List<string?> CdnRangeHeaders { get; } = [];

    public static async Task<HubServer> StartAsync()
    {
        var app = LoopbackApp.Create();
        var server = new HubServer(app);
        app.MapGet("/api/models/{owner}/{name}/revision/{revision}", server.ListAsync);
        app.MapMethods("/{owner}/{name}/resolve/{revision}/{**path}", ["GET", "HEAD"], server.Resolve);
        app.MapGet("/cdn/{owner}/{name}/{**path}", server.CdnAsync);
        await app.StartAsync();
        server.Address = new Uri(LoopbackApp.AddressOf(app));
        return server;
    }

    /// <summary>Serves every file under <paramref name="folder"/> as repository <paramref name="repository"/>.</summary>
    public void AddRepository(string repository, string folder) =>
        _repositories[repository] = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(folder, f).Replace('\\', '/'), File.ReadAllBytes);

    /// <summary>The next <paramref name="count"/> CDN responses send half their bytes and drop the connection.</summary>
    public void AbortNextDownloads(int count) => _abortsLeft = count;

    private static bool IsLfs(string path) => path.EndsWith(".onnx", StringComparison.Ordinal);

    private bool Authorized(HttpContext context) =>
        RequiredToken is null || context.Request.Headers.Authorization.ToString() == $"Bearer {RequiredToken}";

    private Dictionary<string, byte[]>? Repository(string owner, string name, string revision) =>
        revision is "main" or Commit && _repositories.TryGetValue($"{owner}/{name}", out var files) ? files : null;

    private async Task ListAsync(HttpContext context, string owner, string name, string revision)
    {
        lock (Requests) Requests.Add(context.Request.Path + context.Request.QueryString);
        if (!Authorized(context)) { context.Response.StatusCode = 401; return; }
        var files = Repository(owner, name, revision);
        if (files is null) { context.Response.StatusCode = 404; return; }
        var blobs = ListBlobs && context.Request.Query["blobs"] == "true";
        var siblings = files.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => blobs
            ? (object)new
            {
                rfilename = f.Key,
                size = f.Value.Length,
                blobId = IsLfs(f.Key) ? Sha1Hex(Encoding.ASCII.GetBytes("pointer " + f.Key)) : GitBlobSha1(f.Value),
                lfs = IsLfs(f.Key) ? new { sha256 = Convert.ToHexStringLower(SHA256.HashData(f.Value)), size = f.Value.Length, pointerSize = 134 } : null,
            }
            : new { rfilename = f.Key });
        await context.Response.WriteAsJsonAsync(new { id = $"{owner}/{name}", sha = Commit, siblings });
    }

    private IResult Resolve(HttpContext context, string owner, string name, string revision, string path)
    {
        lock (Requests) Requests.Add($"{context.Request.Method} {context.Request.Path}");
        if (!Authorized(context)) return Results.StatusCode(401);
        var files = Repository(owner, name, revision);
        if (files is null || !files.TryGetValue(path, out var content)) return Results.NotFound();
        var headers = context.Response.Headers;
        headers["X-Repo-Commit"] = Commit;
        if (IsLfs(path))
        {
            headers["X-Linked-Etag"] = $"\"{Convert.ToHexStringLower(SHA256.HashData(content))}\"";
            headers["X-Linked-Size"] = content.Length.ToString();
            headers.ETag = $"\"{Convert.ToHexStringLower(SHA256.HashData(content))}\"";
            return Results.Redirect($"/cdn/{owner}/{name}/{path}");
        }
        headers.ETag = $"\"{GitBlobSha1(content)}\"";
        return Results.Bytes(Served(path, content), "application/octet-stream");
    }

    private async Task CdnAsync(HttpContext context, string owner, string name, string path)
    {
        lock (Requests)
        {
            CdnAuthorizationHeaders.Add(context.Request.Headers.Authorization.FirstOrDefault());
            CdnRangeHeaders.Add(context.Request.Headers.Range.FirstOrDefault());
        }
        if (!_repositories.TryGetValue($"{owner}/{name}", out var files) || !files.TryGetValue(path, out var original))
        {
            context.Response.StatusCode = 404;
            return;
        }
        var content = Served(path, original);
        var offset = 0;
        var range = context.Request.Headers.Range.ToString();
        if (range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
        {
            offset = int.Parse(range["bytes=".Length..^1]);
            context.Response.StatusCode = 206;
            context.Response.Headers.ContentRange = $"bytes {offset}-{content.Length - 1}/{content.Length}";
        }
        context.Response.ContentLength = content.Length - offset;
        if (Interlocked.Decrement(ref _abortsLeft) >= 0)
        {
            await context.Response.Body.WriteAsync(content.AsMemory(offset, (content.Length - offset) / 2));
            await context.Response.Body.FlushAsync();
            context.Abort();
            return;
        }
        await context.Response.Body.WriteAsync(content.AsMemory(offset));
    }

    private byte[] Served(string path, byte[] content)
    {
        if (!Corrupt.Contains(path)) return content;
        var copy = (byte[])content.Clone();
        copy[copy.Length / 2] ^= 0xFF;
        return copy;
    }

    private static string Sha1Hex(byte[] data) => Convert.ToHexStringLower(SHA1.HashData(data));

    private static string GitBlobSha1(byte[] content) =>
        Sha1Hex([.. Encoding.ASCII.GetBytes($"blob {content.Length}\0"), .. content]);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
