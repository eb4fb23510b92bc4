using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Iris.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Iris.Tests.Http;

/// <summary>
/// Traces over OTLP/HTTP to a real HTTP endpoint on loopback standing in for an OpenTelemetry collector: the export
/// is the protobuf the collector receives (span names and attribute values appear in it as UTF-8 strings).
/// </summary>
public sealed class TracingTests
{
    [Fact]
    public async Task A_detect_request_is_exported_as_request_decode_and_model_run_spans()
    {
        var exports = new ConcurrentQueue<(string ContentType, byte[] Body)>();
        await using var collector = LoopbackApp.Create();
        collector.MapPost("/v1/traces", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            exports.Enqueue((request.ContentType ?? "", body.ToArray()));
            return Results.Ok();
        });
        await collector.StartAsync();

        await using (var host = await IrisTestHost.StartAsync(new Dictionary<string, string?>
                     {
                         ["Tracing:OtlpEndpoint"] = LoopbackApp.AddressOf(collector) + "/v1/traces",
                     }))
        {
            await host.WaitUntilReadyAsync();
            using var form = new MultipartFormDataContent { { new ByteArrayContent(await File.ReadAllBytesAsync(TestPaths.RealImage("dog.jpg"))), "image", "dog.jpg" } };
            using var response = await host.Client.PostAsync("/v1/detect", form);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        } // Stopping the host flushes the exporter.

        Assert.NotEmpty(exports);
        Assert.All(exports, e => Assert.Equal("application/x-protobuf", e.ContentType));
        var payload = Encoding.UTF8.GetString(exports.SelectMany(e => e.Body).ToArray());
        Assert.Contains("image.decode", payload);
        Assert.Contains("model.run", payload);
        Assert.Contains("yolox-nano", payload);
        Assert.Contains("/v1/detect", payload);
        Assert.Contains("iris", payload);
        // Probes are filtered out: they would drown the traces that matter.
        Assert.DoesNotContain("/readyz", payload);
    }
}
