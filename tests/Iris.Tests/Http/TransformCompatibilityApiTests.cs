using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Iris.Tests.Support;
using NetVips;

namespace Iris.Tests.Http;

public class TransformCompatibilityApiTests(TransformHost server) : IClassFixture<TransformHost>
{
    private HttpClient Client => server.Host.Client;
    private static byte[] Dog => File.ReadAllBytes(TestPaths.RealImage("dog.jpg"));

    private async Task<Image> PostAsync(string url)
    {
        using var response = await Client.PostAsync(url, TransformApiTests.Raw(Dog));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return Image.NewFromBuffer(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Resize_takes_width_height_and_fit()
    {
        using var image = await PostAsync("/api/v1/resize?width=200&height=200&fit=cover&format=png");
        Assert.Equal((200, 200), (image.Width, image.Height));
    }

    [Fact]
    public async Task Crop_takes_a_rectangle_or_a_smart_gravity()
    {
        using var rectangle = await PostAsync("/api/v1/crop?x=10&y=10&width=100&height=50");
        Assert.Equal((100, 50), (rectangle.Width, rectangle.Height));
        using var smart = await PostAsync("/api/v1/crop?width=120&height=120&gravity=attention");
        Assert.Equal((120, 120), (smart.Width, smart.Height));
    }

    [Fact]
    public async Task Filter_and_enhance_apply_their_operation()
    {
        using var grey = await PostAsync("/api/v1/filter?filter=grayscale&format=png");
        Assert.Equal(1, grey.Bands);
        using var blurred = await PostAsync("/api/v1/filter?filter=gaussblur&sigma=3");
        Assert.Equal(768, blurred.Width);
        using var brighter = await PostAsync("/api/v1/enhance?brightness=1.5&format=png");
        using var original = Image.NewFromBuffer(Dog);
        Assert.True(brighter.Avg() > original.Avg() * 1.2);
    }

    [Fact]
    public async Task Compatibility_parameters_are_validated_with_the_parameter_named()
    {
        using var badFilter = await Client.PostAsync("/api/v1/filter?filter=swirl", TransformApiTests.Raw(Dog));
        await TransformApiTests.AssertProblem(badFilter, HttpStatusCode.BadRequest, "filter must be one of", "filter");
        using var badWidth = await Client.PostAsync("/api/v1/resize?width=-3", TransformApiTests.Raw(Dog));
        await TransformApiTests.AssertProblem(badWidth, HttpStatusCode.BadRequest, "between 1 and 100000", "resize.w");
    }

    [Fact]
    public async Task Batch_runs_every_image_through_every_pipeline_and_reports_errors_per_item()
    {
        using var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(Dog), "images", "dog.jpg");
        form.Add(new ByteArrayContent("not an image"u8.ToArray()), "images", "bad.jpg");
        form.Add(new StringContent("resize:w=100;format:png"), "ops");
        form.Add(new StringContent("resize:w=50;format:webp"), "ops");
        using var response = await Client.PostAsync("/api/v1/batch", form);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var results = body.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(4, results.Count);
        var first = results.Single(r => r.GetProperty("image").GetInt32() == 0 && r.GetProperty("pipeline").GetInt32() == 1);
        Assert.Equal("image/webp", first.GetProperty("content_type").GetString());
        using (var decoded = Image.NewFromBuffer(Convert.FromBase64String(first.GetProperty("data").GetString()!)))
            Assert.Equal(50, decoded.Width);
        Assert.All(results.Where(r => r.GetProperty("image").GetInt32() == 1), r =>
        {
            Assert.Equal(415, r.GetProperty("status").GetInt32());
            Assert.Contains("not an image", r.GetProperty("error").GetProperty("detail").GetString());
        });
    }

    [Fact]
    public async Task Batch_accepts_json_and_runs_more_items_than_the_limit_as_transform_jobs()
    {
        var image = Convert.ToBase64String(Dog);
        using var ok = await Client.PostAsJsonAsync("/api/v1/batch", new { images = new[] { image }, ops = new[] { "flip;format:png", "flop" } });
        Assert.Equal(2, (await ok.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("results").GetArrayLength());

        // 4 images × 2 pipelines is over Transforms:MaxBatchItems (6): one durable job per image instead.
        using var large = await Client.PostAsJsonAsync("/api/v1/batch", new { images = Enumerable.Repeat(image, 4).ToArray(), ops = new[] { "flip;format:png", "resize:w=100" } });
        Assert.Equal(HttpStatusCode.Accepted, large.StatusCode);
        var submitted = await large.Content.ReadFromJsonAsync<JsonElement>();
        Assert.StartsWith("/v1/jobs?batch_id=", large.Headers.Location!.OriginalString);
        var jobs = submitted.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("id").GetString()!).ToList();
        Assert.Equal(4, jobs.Count);
        foreach (var id in jobs)
        {
            var outputs = (await TransformJobsTests.ResultAsync(Client, id)).GetProperty("transform").GetProperty("outputs").EnumerateArray().ToList();
            Assert.Equal(["image/png", "image/jpeg"], outputs.Select(o => o.GetProperty("media_type").GetString()));
            Assert.Equal([768, 100], outputs.Select(o => o.GetProperty("width").GetInt32()));
        }
    }

    [Fact]
    public async Task Batch_items_whose_outputs_pass_64_MiB_get_their_own_413_instead_of_a_huge_answer()
    {
        // Each output is an uncompressed 4000×4000 BMP of 48 MB: the first fits, the second would pass 64 MiB.
        const string huge = "resize:w=4000,h=4000,fit=fill,enlarge=true;format:bmp";
        using var response = await Client.PostAsJsonAsync("/api/v1/batch", new { images = new[] { Convert.ToBase64String(Dog) }, ops = new[] { huge, huge, "resize:w=10;format:png" } });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var results = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("results").EnumerateArray().ToList();
        Assert.Equal([200, 413, 200], results.Select(r => r.GetProperty("status").GetInt32()));
        Assert.Contains("64 MiB", results[1].GetProperty("error").GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Batch_with_an_invalid_pipeline_fails_as_a_whole()
    {
        using var response = await Client.PostAsJsonAsync("/api/v1/batch", new { images = new[] { Convert.ToBase64String(Dog) }, ops = new[] { "resize:w=abc" } });
        await TransformApiTests.AssertProblem(response, HttpStatusCode.BadRequest, "between 1 and 100000", "resize.w");
    }
}
