using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Iris.Tests.Support;

namespace Iris.Tests.Http;

/// <summary>A multipart body that ends before its closing boundary is the client's error: 400 problem+json, never a 500.</summary>
public sealed class MalformedMultipartTests(TransformHost fixture) : IClassFixture<TransformHost>
{
    [Theory]
    [InlineData("/v1/detect")]
    [InlineData("/v1/analyze?tasks=info")]
    [InlineData("/v1/jobs")]
    [InlineData("/api/v1/batch")]
    [InlineData("/v1/vision/detection")]
    public async Task A_truncated_multipart_body_is_a_400_naming_the_problem(string path)
    {
        var body = new ByteArrayContent(Encoding.UTF8.GetBytes("--abc\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.jpg\"\r\n\r\n\xff\xd8"));
        body.Headers.TryAddWithoutValidation("Content-Type", "multipart/form-data; boundary=abc");
        using var response = await fixture.Host.Client.PostAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("multipart body could not be read", JsonDocument.Parse(text).RootElement.GetProperty("detail").GetString());
    }
}
