using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Iris.Core.Imaging;
using Iris.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Iris.Tests.Hardening;

/// <summary>The time budget ends the work, and the pixel budget sheds a burst with 503 instead of taking the memory.</summary>
[Collection(HardeningServers.Name)]
public sealed class DecodeBudgetApiTests
{
    private static ByteArrayContent Raw(byte[] bytes)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return content;
    }

    private static async Task<IrisTestHost> StartAsync(TempDirectory data, Dictionary<string, string> settings)
    {
        var all = TransformHost.Settings(data.Path);
        all["Models:Enabled"] = "";
        foreach (var (key, value) in settings) all[key] = value;
        return await IrisTestHost.StartAsync(all);
    }

    [Fact]
    public async Task The_svg_blur_bomb_answers_within_the_decode_and_transform_budgets_and_the_next_request_is_fast()
    {
        using var data = new TempDirectory();
        // Short budgets, so the bomb must be cut off by them: it renders in 1.4 s on a busy machine at the default
        // Images:MaxSvgPixels, but in ~300 ms on a quiet one, which a 300 ms budget let through now and then.
        await using var host = await StartAsync(data, new() { ["Images:DecodeTimeoutMs"] = "100", ["Transforms:TimeBudgetMs"] = "100" });
        var bomb = Encoding.UTF8.GetBytes(HostileImages.SvgBlurBomb);
        Assert.True(bomb.Length < 240);

        foreach (var route in new[] { "/v1/info", "/v1/transform?ops=resize:w=64" })
        {
            var clock = Stopwatch.StartNew();
            using var response = await host.Client.PostAsync(route, Raw(bomb));
            var elapsed = clock.Elapsed;
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(elapsed < TimeSpan.FromMilliseconds(100 + 2000), $"{route}: {elapsed.TotalMilliseconds:N0} ms");
            Assert.True(response.StatusCode == HttpStatusCode.UnprocessableEntity, $"{route}: {(int)response.StatusCode} {body}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("timed out", JsonDocument.Parse(body).RootElement.GetProperty("title").GetString());
        }

        using var pattern = TestImages.Pattern(64, 48);
        var small = TestImages.Encode(pattern, ".png");
        var next = Stopwatch.StartNew();
        using var ok = await host.Client.PostAsync("/v1/info", Raw(small));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.True(next.Elapsed < TimeSpan.FromSeconds(2), $"{next.Elapsed.TotalMilliseconds:N0} ms");
    }

    [Fact]
    public async Task A_burst_of_large_images_past_the_pixel_budget_is_shed_with_503_and_Retry_After_and_none_fails()
    {
        using var data = new TempDirectory();
        // The pixel budget is under test, not the admission of image requests (Server:MaxImageRequests) in front of it.
        await using var host = await StartAsync(data, new() { ["Images:MaxInFlightPixels"] = "9000000", ["Images:AdmissionWaitMs"] = "0", ["Server:MaxImageRequests"] = "-1" });
        var large = HostileImages.PngRgb(3000, 3000);

        // Bursts until two decodes overlap: the 27 MB uploads are read at different speeds, so a single burst can stagger.
        var responses = new List<(string route, HttpStatusCode StatusCode, string? RetryAfter, string? Type, string Body)>();
        for (var burst = 0; burst < 5 && !responses.Any(r => r.StatusCode == HttpStatusCode.ServiceUnavailable); burst++)
            responses.AddRange(await Task.WhenAll(Enumerable.Range(0, 8).Select(async i =>
            {
                var route = i % 2 == 0 ? "/v1/info" : "/v1/transform?ops=resize:w=64";
                using var response = await host.Client.PostAsync(route, Raw(large));
                return (route, response.StatusCode, RetryAfter: response.Headers.RetryAfter?.ToString(),
                    Type: response.Content.Headers.ContentType?.MediaType, Body: await response.Content.ReadAsStringAsync());
            })));

        Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"{r.route}: {(int)r.StatusCode} {r.Body}"));
        var shed = responses.Where(r => r.StatusCode == HttpStatusCode.ServiceUnavailable).ToList();
        Assert.NotEmpty(shed);
        Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.OK);
        Assert.All(shed, r =>
        {
            Assert.False(string.IsNullOrEmpty(r.RetryAfter));
            Assert.Equal("application/problem+json", r.Type);
            Assert.Contains("Images:MaxInFlightPixels", r.Body);
        });

        // Every lease ends with its request (or, for a transform, with its work).
        var admission = host.App.Services.GetRequiredService<DecodeAdmission>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (admission.PixelsInFlight != 0 && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.Equal(0, admission.PixelsInFlight);
    }
}
