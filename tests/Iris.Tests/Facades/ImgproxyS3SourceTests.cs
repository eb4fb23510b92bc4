using System.Net;
using Amazon.S3.Model;
using Iris.Tests.Http;
using Iris.Tests.Support;

namespace Iris.Tests.Facades;

/// <summary>imgproxy's <c>s3://bucket/key</c> sources, read through the configured S3 store's client from a real S3 server (s3rver).</summary>
public sealed class ImgproxyS3SourceTests : IAsyncLifetime
{
    private readonly TempDirectory _data = new();
    private TestBucket _bucket = null!;
    private IrisTestHost _host = null!;

    public async Task InitializeAsync()
    {
        _bucket = await TestBucket.CreateAsync();
        var settings = TransformHost.Settings(_data.Path);
        foreach (var (key, value) in _bucket.HostSettings()) settings[key] = value;
        _host = await IrisTestHost.StartAsync(settings);
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _bucket.DisposeAsync();
        _data.Dispose();
    }

    [Fact]
    public async Task An_s3_source_is_read_from_its_bucket_and_a_missing_key_answers_404()
    {
        var dog = File.ReadAllBytes(TestPaths.RealImage("dog.jpg"));
        // Any key of the bucket, not only Iris's own prefix: imgproxy clients name their own objects.
        await _bucket.Store.Client.PutObjectAsync(new PutObjectRequest
        {
            BucketName = _bucket.Name, Key = "photos/dog.jpg", InputStream = new MemoryStream(dog), UseChunkEncoding = false,
        });
        var endpoint = new Uri(_host.Address, "/imgproxy").ToString();
        var options = (System.Text.Json.Nodes.JsonObject)System.Text.Json.Nodes.JsonNode.Parse("""{"width":120,"format":"png"}""")!;

        var url = await ImgproxyNode.UrlAsync(endpoint, TransformHost.Key, TransformHost.Salt, new($"s3://{_bucket.Name}/photos/dog.jpg", options));
        using var response = await _host.Client.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var direct = await _host.Client.PostAsync("/v1/transform?ops=resize:w=120;format:png", TransformApiTests.Raw(dog));
        Assert.Equal(await direct.Content.ReadAsByteArrayAsync(), await response.Content.ReadAsByteArrayAsync());

        var missing = await ImgproxyNode.UrlAsync(endpoint, TransformHost.Key, TransformHost.Salt, new($"s3://{_bucket.Name}/photos/cat.jpg", options));
        using var notFound = await _host.Client.GetAsync(missing);
        Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
    }
}
