using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Iris.Tests.Support;

namespace Iris.Tests.Http;

public class InfoFromUrlTests
{
    [Fact]
    public async Task Get_info_with_a_url_fetches_the_image_and_answers_like_the_upload_route()
    {
        await using var files = await FileServer.StartAsync();
        var dog = await File.ReadAllBytesAsync(TestPaths.RealImage("dog.jpg"));
        var url = files.Add("photos/dog.jpg", dog);
        await using var host = await IrisTestHost.StartAsync(new Dictionary<string, string?> { ["Sources:AllowPrivateNetworks"] = "true" });

        var fetched = await host.Client.GetFromJsonAsync<JsonElement>($"/v1/info?url={Uri.EscapeDataString(url.ToString())}");
        using var upload = new ByteArrayContent(dog);
        upload.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("image/jpeg");
        var uploaded = await (await host.Client.PostAsync("/v1/info", upload)).Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(768, fetched.GetProperty("width").GetInt32());
        Assert.Equal(uploaded.GetProperty("dhash").GetString(), fetched.GetProperty("dhash").GetString());
    }

    [Fact]
    public async Task Get_info_refuses_loopback_sources_unless_private_networks_are_allowed()
    {
        await using var files = await FileServer.StartAsync();
        var url = files.Add("photos/dog.jpg", await File.ReadAllBytesAsync(TestPaths.RealImage("dog.jpg")));
        await using var host = await IrisTestHost.StartAsync();

        using var response = await host.Client.GetAsync($"/v1/info?url={Uri.EscapeDataString(url.ToString())}");

        Assert.True((int)response.StatusCode is >= 400 and < 500, $"got {(int)response.StatusCode}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Get_info_refuses_unspecified_address_forms_of_this_machine_with_403()
    {
        await using var files = await FileServer.StartAsync();
        var port = files.Add("photos/dog.jpg", await File.ReadAllBytesAsync(TestPaths.RealImage("dog.jpg"))).Port;
        await using var host = await IrisTestHost.StartAsync();

        foreach (var target in new[] { "0.0.0.0", "0", "[::]", "localhost.", "[::ffff:127.0.0.1]" })
        {
            using var response = await host.Client.GetAsync($"/v1/info?url={Uri.EscapeDataString($"http://{target}:{port}/photos/dog.jpg")}");
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{target}: {(int)response.StatusCode} {body}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("Sources:AllowPrivateNetworks", JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString());
        }
    }

    [Theory]
    [InlineData("/v1/info", "url is required")]
    [InlineData("/v1/info?url=ftp://example.com/a.jpg", "http(s)")]
    public async Task Get_info_without_a_usable_url_is_400(string route, string detail)
    {
        await using var host = await IrisTestHost.StartAsync();
        using var response = await host.Client.GetAsync(route);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(detail, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
    }
}
