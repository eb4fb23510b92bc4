using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Iris.Tests.Support;
using NetVips;

namespace Iris.Tests.Http;

public class ServerBehaviourTests
{
    private static ByteArrayContent Jpeg(byte[] bytes)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        return content;
    }

    [Fact]
    public async Task Decoding_past_the_time_limit_is_a_422_problem()
    {
        await using var host = await IrisTestHost.StartAsync(new Dictionary<string, string?> { ["Images:DecodeTimeoutMs"] = "1" });
        await host.WaitUntilReadyAsync();
        using var noise = Image.Gaussnoise(5000, 5000).Cast(Enums.BandFormat.Uchar);
        var large = noise.JpegsaveBuffer(q: 90);

        using var response = await host.Client.PostAsync("/v1/detect", Jpeg(large));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains("Images:DecodeTimeoutMs", await response.Content.ReadAsStringAsync());
    }

    /// <summary>One HTTP/1.1 request as raw bytes (what HttpClient would refuse to send), and the raw answer.</summary>
    private static async Task<string> RawExchangeAsync(Uri server, byte[] request)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(server.Host, server.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(request);
        using var reader = new StreamReader(stream, System.Text.Encoding.Latin1);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        return await reader.ReadToEndAsync(timeout.Token);
    }

    private static byte[] Request(string target, params string[] headers) =>
        [.. System.Text.Encoding.ASCII.GetBytes($"GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"),
         .. headers.SelectMany(h => System.Text.Encoding.UTF8.GetBytes(h + "\r\n")),
         .. "\r\n"u8.ToArray()];

    [Fact]
    public async Task A_too_long_url_is_a_414_problem_naming_the_limit()
    {
        await using var host = await IrisTestHost.StartAsync(new Dictionary<string, string?> { ["Models:LoadOnStartup"] = "false" });

        var answer = await RawExchangeAsync(host.Address, Request("/v1/info?url=" + new string('a', 20_000)));

        Assert.StartsWith("HTTP/1.1 414", answer);
        Assert.Contains("Content-Type: application/problem+json", answer, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Server:MaxUrlLength", answer);
    }

    [Fact]
    public async Task A_non_ascii_request_id_is_replaced_instead_of_a_bare_400()
    {
        await using var host = await IrisTestHost.StartAsync(new Dictionary<string, string?> { ["Models:LoadOnStartup"] = "false" });

        var answer = await RawExchangeAsync(host.Address, Request("/healthz", "X-Request-Id: caf\u00e9-\u2603"));

        Assert.StartsWith("HTTP/1.1 200", answer);
        Assert.Matches(@"(?im)^X-Request-Id: [0-9a-f]{32}\r$", answer);
    }

    [Fact]
    public async Task Shutdown_lets_an_in_flight_request_finish()
    {
        var host = await IrisTestHost.StartAsync();
        await host.WaitUntilReadyAsync();
        var dog = await File.ReadAllBytesAsync(TestPaths.RealImage("dog.jpg"));
        var halfSent = new TaskCompletionSource();
        var finishUpload = new TaskCompletionSource();
        var request = host.Client.PostAsync("/v1/detect", new SlowUpload(dog, halfSent, finishUpload.Task));

        await halfSent.Task;           // the server is now reading this request's body
        await Task.Delay(200);
        var stopping = host.App.StopAsync();
        await Task.Delay(200);
        finishUpload.SetResult();      // the rest arrives while the server is shutting down
        using var response = await request;
        await stopping;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await host.DisposeAsync();
    }

    /// <summary>Sends half the image, waits for a signal, then sends the rest.</summary>
    private sealed class SlowUpload(byte[] bytes, TaskCompletionSource halfSent, Task finish) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            await stream.WriteAsync(bytes.AsMemory(0, bytes.Length / 2));
            await stream.FlushAsync();
            halfSent.SetResult();
            await finish;
            await stream.WriteAsync(bytes.AsMemory(bytes.Length / 2));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = bytes.Length;
            return true;
        }

        protected override void Dispose(bool disposing) { }
    }

    [Fact]
    public async Task Serve_writes_one_json_log_line_per_request_with_id_route_status_and_duration()
    {
        using var cache = new TempDirectory();
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "iris.dll"), "serve", "--urls", $"http://127.0.0.1:{port}",
                     "--mirror", TestPaths.ModelMirror, "--model-cache", cache.Path, "--set", "Models:Enabled=yolox-nano" })
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var lines = new List<string>();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (lines) lines.Add(e.Data); };
        process.BeginOutputReadLine();
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (true)
            {
                try
                {
                    if ((await client.GetAsync("/readyz")).IsSuccessStatusCode) break;
                }
                catch (HttpRequestException) when (DateTime.UtcNow < deadline) { }
                if (DateTime.UtcNow > deadline) throw new TimeoutException("server did not start");
                await Task.Delay(100);
            }
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/detect") { Content = Jpeg(await File.ReadAllBytesAsync(TestPaths.RealImage("dog.jpg"))) };
            request.Headers.Add("X-Request-Id", "log-test-1");
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);

            JsonElement? logged = null;
            for (var i = 0; i < 50 && logged is null; i++)
            {
                await Task.Delay(100);
                lock (lines)
                    logged = lines.Select(l => JsonDocument.Parse(l).RootElement)
                        .FirstOrDefault(l => l.TryGetProperty("RequestId", out var id) && id.GetString() == "log-test-1"
                                             && l.TryGetProperty("StatusCode", out _)) is { ValueKind: JsonValueKind.Object } found ? found : null;
            }
            Assert.NotNull(logged);
            Assert.Equal("/v1/detect", logged.Value.GetProperty("Route").GetString());
            Assert.Equal(200, logged.Value.GetProperty("StatusCode").GetInt32());
            Assert.True(logged.Value.GetProperty("Elapsed").GetDouble() > 0);
            lock (lines)
                Assert.All(lines, l => JsonDocument.Parse(l)); // every stdout line is one JSON object
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
