using System.Net;
using Iris.Tests.Support;

namespace Iris.Tests.Ui;

/// <summary>The UI's routes as plain HTTP: where <c>/</c> leads, caching, and <c>Ui:Enabled=false</c>.</summary>
public sealed class WebUiRoutesTests
{
    private static HttpClient NoRedirects(IrisTestHost host) =>
        new(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = host.Address };

    [Fact]
    public async Task Root_redirects_to_the_ui_and_its_files_revalidate_by_etag()
    {
        await using var host = await IrisTestHost.StartAsync();
        using var client = NoRedirects(host);

        using var root = await client.GetAsync("/");
        Assert.Equal(HttpStatusCode.Redirect, root.StatusCode);
        Assert.Equal("/ui", root.Headers.Location?.ToString());

        using var script = await client.GetAsync("/ui/app.js");
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        var etag = script.Headers.ETag!;
        using var again = new HttpRequestMessage(HttpMethod.Get, "/ui/app.js");
        again.Headers.IfNoneMatch.Add(etag);
        using var revalidated = await client.SendAsync(again);
        Assert.Equal(HttpStatusCode.NotModified, revalidated.StatusCode);
    }

    [Fact]
    public async Task With_the_ui_disabled_root_redirects_to_the_docs_and_ui_is_not_found()
    {
        await using var host = await IrisTestHost.StartAsync(new Dictionary<string, string?> { ["Ui:Enabled"] = "false" });
        using var client = NoRedirects(host);

        using var root = await client.GetAsync("/");
        Assert.Equal("/docs", root.Headers.Location?.ToString());
        using var ui = await client.GetAsync("/ui");
        Assert.Equal(HttpStatusCode.NotFound, ui.StatusCode);
    }
}
