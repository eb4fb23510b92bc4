using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Iris.Bench.Throughput;

/// <summary>
/// Posts the fixed image to <c>POST /v1/detect</c> as a raw <c>image/jpeg</c> body over a plain
/// <see cref="HttpClient"/>, one pooled keep-alive connection per caller, and reads the server's stage timings
/// from the answer.
/// </summary>
public sealed class DetectEndpointClient : IDisposable
{
    private static readonly MediaTypeHeaderValue Jpeg = new("image/jpeg");

    private readonly HttpClient _http;
    private readonly byte[] _imageBytes;

    public DetectEndpointClient(Uri baseAddress, byte[] imageBytes, int maxCallers)
    {
        _imageBytes = imageBytes;
        _http = new HttpClient(new SocketsHttpHandler
        {
            // Fewer connections than callers would queue requests in the client and understate the server.
            MaxConnectionsPerServer = maxCallers,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            UseCookies = false,
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
        })
        {
            BaseAddress = baseAddress,
            Timeout = TimeSpan.FromSeconds(60),
        };
    }

    public async ValueTask<StageTimings?> DetectOnceAsync(CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(_imageBytes);
        content.Headers.ContentType = Jpeg;
        using var response = await _http.PostAsync("/v1/detect", content, cancellationToken);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
            throw new HttpRequestException(
                $"POST /v1/detect answered {(int)response.StatusCode}: {System.Text.Encoding.UTF8.GetString(body)}", null, response.StatusCode);
        return ReadTimings(body);
    }

    private static StageTimings ReadTimings(byte[] body)
    {
        using var document = JsonDocument.Parse(body);
        var t = document.RootElement.GetProperty("timings_ms");
        return new StageTimings(
            t.GetProperty("decode").GetDouble(), t.GetProperty("preprocess").GetDouble(), t.GetProperty("inference").GetDouble(),
            t.GetProperty("postprocess").GetDouble(), t.GetProperty("total").GetDouble());
    }

    public void Dispose() => _http.Dispose();
}
