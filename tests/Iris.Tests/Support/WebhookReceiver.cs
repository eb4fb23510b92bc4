using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Iris.Tests.Support;

/// <summary>
/// A real HTTP endpoint for webhooks on a loopback port. It answers 500 to the first <c>failFirst</c> deliveries, and
/// to every delivery while <see cref="Refusing"/> is set; it records every request, and the first it accepts.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _attempts;
    private WebhookReceiver(WebApplication app) => _app = app;

    public string Url { get; private set; } = "";
    public int Attempts => _attempts;
    public bool Refusing { get; set; }

    /// <summary>Every request received, with when it arrived.</summary>
    public ConcurrentQueue<(DateTimeOffset At, Dictionary<string, string> Headers, string Body)> Requests { get; } = new();

    public TaskCompletionSource<(Dictionary<string, string> Headers, string Body)> Accepted { get; } =
        new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static async Task<WebhookReceiver> StartAsync(int failFirst = 0, bool refusing = false)
    {
        var app = LoopbackApp.Create();
        var receiver = new WebhookReceiver(app) { Refusing = refusing };
        app.MapPost("/hook", async (HttpRequest request) =>
        {
            var body = await new StreamReader(request.Body).ReadToEndAsync();
            var headers = request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            receiver.Requests.Enqueue((DateTimeOffset.UtcNow, headers, body));
            if (Interlocked.Increment(ref receiver._attempts) <= failFirst || receiver.Refusing) return Results.StatusCode(500);
            receiver.Accepted.TrySetResult((headers, body));
            return Results.Ok();
        });
        await app.StartAsync();
        receiver.Url = LoopbackApp.AddressOf(app) + "/hook";
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
