using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Iris.Bench.Throughput;

/// <summary>
/// Posts the fixed image to an image route (<c>POST /v1/detect</c>, <c>/v1/analyze?tasks=…</c>, or a peer's) as a raw
/// <c>image/jpeg</c> body over a plain <see cref="HttpClient"/>, one pooled keep-alive connection per caller, and reads
/// the server's stage timings from the answer where it reports them. 429 and 503 are overload answers, counted by
/// <see cref="ClosedLoop"/> as refused (<see cref="RefusedRequestException"/>); any other failure ends the run.
/// </summary>
public sealed class ImageEndpointClient : IDisposable
{
    private static readonly MediaTypeHeaderValue Jpeg = new("image/jpeg");

    private readonly HttpClient _http;
    private readonly string _path;
    private readonly byte[] _imageBytes;
    private readonly Func<JsonElement, StageTimings?> _timings;

    public ImageEndpointClient(Uri baseAddress, string path, byte[] imageBytes, int maxCallers, Func<JsonElement, StageTimings?>? timings = null)
    {
        _path = path;
        _imageBytes = imageBytes;
        _timings = timings ?? (_ => null);
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

    /// <summary><c>POST /v1/detect</c>, reading the detector's stage timings.</summary>
    public static ImageEndpointClient Detect(Uri baseAddress, byte[] imageBytes, int maxCallers) =>
        new(baseAddress, "/v1/detect", imageBytes, maxCallers, DetectTimings);

    /// <summary><c>POST /v1/analyze?tasks=…</c>: decode, and every task's time as "inference".</summary>
    public static ImageEndpointClient Analyze(Uri baseAddress, string[] tasks, byte[] imageBytes, int maxCallers) =>
        new(baseAddress, "/v1/analyze?tasks=" + string.Join(',', tasks), imageBytes, maxCallers, root =>
        {
            var t = root.GetProperty("timings_ms");
            return new StageTimings(t.GetProperty("decode").GetDouble(), 0, tasks.Sum(task => t.GetProperty(task).GetDouble()), 0,
                t.GetProperty("total").GetDouble());
        });

    /// <summary>The answer's body as text (to print a route's detections).</summary>
    public async Task<string> GetBodyAsync(CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(_imageBytes);
        content.Headers.ContentType = Jpeg;
        using var response = await _http.PostAsync(_path, content, cancellationToken);
        return await response.Content.ReadAsStringAsync(cancellationToken);
    }

    public async ValueTask<StageTimings?> PostOnceAsync(CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(_imageBytes);
        content.Headers.ContentType = Jpeg;
        using var response = await _http.PostAsync(_path, content, cancellationToken);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        if (response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable)
            throw new RefusedRequestException((int)response.StatusCode);
        if (response.StatusCode != HttpStatusCode.OK)
            throw new HttpRequestException(
                $"POST {_path} answered {(int)response.StatusCode}: {System.Text.Encoding.UTF8.GetString(body)}", null, response.StatusCode);
        using var document = JsonDocument.Parse(body);
        return _timings(document.RootElement);
    }

    private static StageTimings? DetectTimings(JsonElement root)
    {
        var t = root.GetProperty("timings_ms");
        return new StageTimings(
            t.GetProperty("decode").GetDouble(), t.GetProperty("preprocess").GetDouble(), t.GetProperty("inference").GetDouble(),
            t.GetProperty("postprocess").GetDouble(), t.GetProperty("total").GetDouble());
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>The server refused the request as overload (429 or 503): an answer, not a failure of the run.</summary>
public sealed class RefusedRequestException(int status) : Exception($"refused with {status}")
{
    public int Status { get; } = status;
}
