using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Iris.Tests.Support;

/// <summary>
/// A real HTTP server on loopback serving byte arrays, with Range support and a switch that makes the
/// first response stop part-way through and abort the connection, as a flaky network does.
/// </summary>
public sealed class FileServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Dictionary<string, byte[]> _files = new();
    private int _abortsLeft;

    public List<string?> RangeHeaders { get; } = [];

    private FileServer(WebApplication app) => _app = app;

    public Uri Address { get; private set; } = null!;

    public static async Task<FileServer> StartAsync()
    {
        var app = LoopbackApp.Create();
        var server = new FileServer(app);
        app.MapGet("/{**path}", server.Serve);
        await app.StartAsync();
        server.Address = new Uri(LoopbackApp.AddressOf(app));
        return server;
    }

    public Uri Add(string path, byte[] content)
    {
        _files[path] = content;
        return new Uri(Address, path);
    }

    /// <summary>The next <paramref name="count"/> responses send about half their bytes and then drop the connection.</summary>
    public void AbortNextResponses(int count) => _abortsLeft = count;

    private async Task Serve(HttpContext context, string path)
    {
        lock (RangeHeaders) RangeHeaders.Add(context.Request.Headers.Range.FirstOrDefault());
        if (!_files.TryGetValue(path, out var content))
        {
            context.Response.StatusCode = 404;
            return;
        }
        var offset = 0;
        var range = context.Request.Headers.Range.ToString();
        if (range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
        {
            offset = int.Parse(range["bytes=".Length..^1]);
            context.Response.StatusCode = (int)HttpStatusCode.PartialContent;
            context.Response.Headers.ContentRange = $"bytes {offset}-{content.Length - 1}/{content.Length}";
        }
        context.Response.ContentLength = content.Length - offset;
        if (Interlocked.Decrement(ref _abortsLeft) >= 0)
        {
            var half = (content.Length - offset) / 2;
            await context.Response.Body.WriteAsync(content.AsMemory(offset, half));
            await context.Response.Body.FlushAsync();
            context.Abort();
            return;
        }
        await context.Response.Body.WriteAsync(content.AsMemory(offset));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
