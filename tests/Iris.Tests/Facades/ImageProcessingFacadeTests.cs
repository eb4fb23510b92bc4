using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Iris.Tests.Http;
using Iris.Tests.Support;
using NetVips;

namespace Iris.Tests.Facades;

/// <summary>
/// The calls a client of the image processing microservice (seed 003) makes, replayed against a real Iris: its JSON
/// bodies with an image_url, its multipart `file` upload, its field names and ranges, its task polling and probes.
/// </summary>
public class ImageProcessingFacadeTests(TransformHost server) : IClassFixture<TransformHost>, IAsyncLifetime
{
    private HttpClient Client => server.Host.Client;
    private static byte[] Dog => File.ReadAllBytes(TestPaths.RealImage("dog.jpg"));
    private FileServer _files = null!;

    public async Task InitializeAsync() => _files = await FileServer.StartAsync();

    public async Task DisposeAsync() => await _files.DisposeAsync();

    private string Url(string name) => _files.Add(name, File.ReadAllBytes(TestPaths.RealImage(name))).ToString();

    private static async Task<JsonElement> OkJsonAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>Polls GET /api/v1/tasks/{id} as the old service's clients do, until the task has finished.</summary>
    private async Task<JsonElement> FinishedTaskAsync(string id)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var task = await OkJsonAsync(await Client.GetAsync($"/api/v1/tasks/{id}"));
            if (task.GetProperty("status").GetString() is "completed" or "failed") return task;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"task {id} did not finish: {task}");
            await Task.Delay(50);
        }
    }

    private async Task<int> JobCountAsync() =>
        (await OkJsonAsync(await Client.GetAsync("/v1/jobs?limit=200"))).GetProperty("jobs").GetArrayLength();

    [Fact]
    public async Task Upload_as_the_old_clients_send_it_answers_their_fields_with_a_url_that_serves_the_image()
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(Dog);
        file.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        form.Add(file, "file", "dog.jpg");
        form.Add(new StringContent("false"), "process_immediately");
        var body = await OkJsonAsync(await Client.PostAsync("/api/v1/upload", form));

        Assert.True(body.GetProperty("success").GetBoolean());
        Assert.Equal("completed", body.GetProperty("status").GetString());
        Assert.Equal(body.GetProperty("id").GetString(), body.GetProperty("task_id").GetString());
        var resultUrl = body.GetProperty("result_url").GetString()!;
        Assert.True(Uri.IsWellFormedUriString(resultUrl, UriKind.Absolute), resultUrl);
        using var stored = await Client.GetAsync(resultUrl);
        Assert.Equal(HttpStatusCode.OK, stored.StatusCode);
        using var served = Image.NewFromBuffer(await stored.Content.ReadAsByteArrayAsync());
        using var dog = Image.NewFromBuffer(Dog);
        Assert.Equal((dog.Width, dog.Height), (served.Width, served.Height));
    }

    [Fact]
    public async Task Resize_sent_as_the_old_json_with_an_image_url_is_a_task_whose_result_url_serves_the_resized_image()
    {
        var queued = await OkJsonAsync(await Client.PostAsJsonAsync("/api/v1/resize", new
        {
            image_url = Url("dog.jpg"), width = 300, height = 200, maintain_aspect_ratio = true, output_format = "jpeg", quality = 85,
        }));
        Assert.True(queued.GetProperty("success").GetBoolean());
        Assert.Equal("pending", queued.GetProperty("status").GetString());

        var task = await FinishedTaskAsync(queued.GetProperty("task_id").GetString()!);
        Assert.Equal("completed", task.GetProperty("status").GetString());
        Assert.Equal(100, task.GetProperty("progress").GetInt32());
        Assert.Matches(new Regex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$"), task.GetProperty("created_at").GetString());
        using var result = await Client.GetAsync(task.GetProperty("result").GetProperty("result_url").GetString());
        Assert.Equal("image/jpeg", result.Content.Headers.ContentType?.MediaType);
        using var image = Image.NewFromBuffer(await result.Content.ReadAsByteArrayAsync());
        // 768×576 fitted inside 300×200, aspect ratio kept.
        Assert.Equal((267, 200), (image.Width, image.Height));
    }

    [Fact]
    public async Task A_task_asking_for_bmp_serves_bmp_from_its_result_url()
    {
        var queued = await OkJsonAsync(await Client.PostAsJsonAsync("/api/v1/crop", new
        {
            image_url = Url("dog.jpg"), x = 10, y = 10, width = 100, height = 100, output_format = "bmp",
        }));
        var task = await FinishedTaskAsync(queued.GetProperty("task_id").GetString()!);
        using var result = await Client.GetAsync(task.GetProperty("result").GetProperty("result_url").GetString());
        Assert.Equal("image/bmp", result.Content.Headers.ContentType?.MediaType);
        Assert.Equal("BM"u8.ToArray(), (await result.Content.ReadAsByteArrayAsync())[..2]);
    }

    [Fact]
    public async Task An_old_json_request_with_a_bad_field_is_refused_and_queues_nothing()
    {
        var before = await JobCountAsync();
        using var badWidth = await Client.PostAsJsonAsync("/api/v1/resize", new { image_url = Url("dog.jpg"), width = -1, height = 200 });
        await TransformApiTests.AssertProblem(badWidth, HttpStatusCode.BadRequest, "between 1 and 100000", "resize.w");
        using var badFilter = await Client.PostAsJsonAsync("/api/v1/filter", new { image_url = Url("dog.jpg"), filter_type = "swirl" });
        await TransformApiTests.AssertProblem(badFilter, HttpStatusCode.UnprocessableEntity, "edge_detection", "filter_type");
        // A batch whose second operation is unknown queues not even the first.
        using var badBatch = await Client.PostAsJsonAsync("/api/v1/batch", new
        {
            image_urls = new[] { Url("dog.jpg") },
            operations = new object[] { new { type = "resize", width = 100 }, new { type = "swirl" } },
        });
        await TransformApiTests.AssertProblem(badBatch, HttpStatusCode.UnprocessableEntity, "resize, crop, filter, enhance", "type");
        // Each image × operation is a job with its own copy of the image, so the count is bounded before any fetch.
        using var tooMany = await Client.PostAsJsonAsync("/api/v1/batch", new
        {
            image_urls = new[] { Url("dog.jpg") },
            operations = Enumerable.Repeat(new { type = "resize", width = 1 }, 10_000).ToArray(),
        });
        await TransformApiTests.AssertProblem(tooMany, HttpStatusCode.UnprocessableEntity, "at most 20 operations", "operations");
        Assert.Equal(before, await JobCountAsync());
    }

    [Fact]
    public async Task A_batch_fetches_a_url_listed_several_times_once()
    {
        var url = Url("dog.jpg");
        var body = await OkJsonAsync(await Client.PostAsJsonAsync("/api/v1/batch", new
        {
            image_urls = new[] { url, url, url },
            operations = new object[] { new { type = "resize", width = 50 } },
        }));
        Assert.Equal(3, body.GetProperty("total_tasks").GetInt32());
        Assert.Single(_files.RangeHeaders);
    }

    [Fact]
    public async Task A_batch_whose_images_add_up_to_more_than_ten_images_worth_is_refused_and_queues_nothing()
    {
        using var data = new TempDirectory();
        var settings = TransformHost.Settings(data.Path);
        settings["Images:MaxBytes"] = "20000";
        await using var host = await IrisTestHost.StartAsync(settings);
        // 14 distinct URLs of a 15 KB photo: each under Images:MaxBytes, together over 10 × 20,000 bytes.
        var photo = File.ReadAllBytes(TestPaths.RealImage("coco-000000001503.jpg"));
        var urls = Enumerable.Range(0, 14).Select(i => _files.Add($"photo-{i}.jpg", photo).ToString()).ToArray();
        using var response = await host.Client.PostAsJsonAsync("/api/v1/batch", new { image_urls = urls, operations = new object[] { new { type = "resize", width = 50 } } });
        await TransformApiTests.AssertProblem(response, HttpStatusCode.UnprocessableEntity, "10 × Images:MaxBytes", "image_urls");
        Assert.Empty((await host.Client.GetFromJsonAsync<JsonElement>("/v1/jobs")).GetProperty("jobs").EnumerateArray());
    }

    [Theory]
    [InlineData("edge detection", "edge_detection")]
    [InlineData("gaussian blur", "gaussian_blur")]
    [InlineData("Median Filter", "median_filter")]
    [InlineData("Edge-Detection", "edge_detection")]
    public async Task Filter_names_as_the_old_clients_write_them_give_the_same_image(string written, string name)
    {
        async Task<byte[]> FilterAsync(string filter)
        {
            using var response = await Client.PostAsync($"/api/v1/filter?filter_type={Uri.EscapeDataString(filter)}&intensity=1.5&output_format=png",
                TransformApiTests.Raw(Dog, "image/jpeg"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return await response.Content.ReadAsByteArrayAsync();
        }
        Assert.Equal(await FilterAsync(name), await FilterAsync(written));
    }

    [Fact]
    public async Task The_old_filters_change_the_pixels_as_they_did()
    {
        async Task<Image> FilterAsync(string query)
        {
            using var response = await Client.PostAsync($"/api/v1/filter?{query}&output_format=png", TransformApiTests.Raw(Dog, "image/jpeg"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return Image.NewFromBuffer(await response.Content.ReadAsByteArrayAsync());
        }
        using var original = Image.NewFromBuffer(Dog);
        // Canny edges: a mostly black image.
        using var edges = await FilterAsync("filter_type=edge_detection");
        Assert.True(edges.Avg() < original.Avg() / 3, $"edges mean {edges.Avg()}, original {original.Avg()}");
        // gaussian_blur blurs twice as wide as blur at the same intensity: less left of the detail.
        using var blur = await FilterAsync("filter_type=blur&intensity=2");
        using var gaussian = await FilterAsync("filter_type=gaussian_blur&intensity=2");
        Assert.True(gaussian.Deviate() < blur.Deviate() && blur.Deviate() < original.Deviate());
        using var sharpened = await FilterAsync("filter_type=sharpen&intensity=2");
        Assert.True(sharpened.Deviate() > original.Deviate());
    }

    [Fact]
    public async Task Unknown_filter_or_intensity_out_of_range_is_the_old_422_naming_what_is_valid()
    {
        using var unknown = await Client.PostAsync("/api/v1/filter?filter_type=swirl", TransformApiTests.Raw(Dog, "image/jpeg"));
        var problem = await TransformApiTests.AssertProblem(unknown, HttpStatusCode.UnprocessableEntity, "filter_type must be one of", "filter_type");
        foreach (var name in new[] { "blur", "sharpen", "edge_detection", "gaussian_blur", "median_filter", "emboss", "contour" })
            Assert.Contains(name, problem.GetProperty("detail").GetString());
        using var intensity = await Client.PostAsync("/api/v1/filter?filter_type=blur&intensity=5", TransformApiTests.Raw(Dog, "image/jpeg"));
        await TransformApiTests.AssertProblem(intensity, HttpStatusCode.UnprocessableEntity, "between 0.1 and 3", "intensity");
    }

    [Fact]
    public async Task Bmp_output_is_a_24_bit_bmp_with_the_pixels_of_the_png_output()
    {
        using var bmpResponse = await Client.PostAsync("/api/v1/resize?width=97&output_format=bmp", TransformApiTests.Raw(Dog, "image/jpeg"));
        Assert.Equal(HttpStatusCode.OK, bmpResponse.StatusCode);
        Assert.Equal("image/bmp", bmpResponse.Content.Headers.ContentType?.MediaType);
        var bmp = await bmpResponse.Content.ReadAsByteArrayAsync();
        Assert.Equal("BM"u8.ToArray(), bmp[..2]);
        Assert.Equal(24, BitConverter.ToUInt16(bmp, 28));
        Assert.Equal(bmp.Length, BitConverter.ToInt32(bmp, 2));

        using var pngResponse = await Client.PostAsync("/api/v1/resize?width=97&format=png", TransformApiTests.Raw(Dog, "image/jpeg"));
        using var png = Image.NewFromBuffer(await pngResponse.Content.ReadAsByteArrayAsync());
        // Iris reads BMP itself: the BMP back to PNG must hold exactly the same pixels (97 px rows need padding).
        using var roundTrip = await Client.PostAsync("/v1/transform?ops=format:png", TransformApiTests.Raw(bmp, "image/bmp"));
        Assert.Equal(HttpStatusCode.OK, roundTrip.StatusCode);
        using var decoded = Image.NewFromBuffer(await roundTrip.Content.ReadAsByteArrayAsync());
        Assert.Equal((png.Width, png.Height, png.Bands), (decoded.Width, decoded.Height, decoded.Bands));
        using var difference = (png - decoded).Abs();
        Assert.Equal(0, difference.Max());
    }

    [Fact]
    public async Task Ocr_of_an_image_url_answers_one_result_per_line_as_v1_ocr_reads_them()
    {
        var body = await OkJsonAsync(await Client.PostAsJsonAsync("/api/v1/ocr", new
        {
            image_url = Url("ocr-latin.jpg"), languages = new[] { "eng" }, detect_orientation = true, extract_confidence = true,
        }));
        Assert.True(body.GetProperty("success").GetBoolean());
        Assert.True(body.GetProperty("processing_time").GetDouble() > 0);
        var results = body.GetProperty("results").EnumerateArray().ToList();
        Assert.NotEmpty(results);
        Assert.All(results, r =>
        {
            var box = r.GetProperty("bbox");
            Assert.True(box.GetProperty("x2").GetDouble() > box.GetProperty("x1").GetDouble());
            Assert.True(box.GetProperty("y2").GetDouble() > box.GetProperty("y1").GetDouble());
            Assert.InRange(r.GetProperty("confidence").GetDouble(), 0, 1);
        });
        using var native = await Client.PostAsync("/v1/ocr", TransformApiTests.Raw(File.ReadAllBytes(TestPaths.RealImage("ocr-latin.jpg")), "image/jpeg"));
        var lines = (await OkJsonAsync(native)).GetProperty("lines").EnumerateArray().Select(l => l.GetProperty("text").GetString()).ToList();
        Assert.Equal(lines, results.Select(r => r.GetProperty("text").GetString()));
    }

    [Fact]
    public async Task Ocr_without_an_image_is_the_old_400_image_url_is_required()
    {
        using var response = await Client.PostAsJsonAsync("/api/v1/ocr", new { languages = new[] { "eng" } });
        await TransformApiTests.AssertProblem(response, HttpStatusCode.BadRequest, "image_url is required", "image_url");
    }

    [Fact]
    public async Task Detect_objects_takes_the_old_fields_filters_classes_and_refuses_a_threshold_out_of_range()
    {
        var body = await OkJsonAsync(await Client.PostAsJsonAsync("/api/v1/detect-objects", new
        {
            image_url = Url("dog.jpg"), confidence_threshold = 0.3, max_detections = 10, classes_filter = new[] { "dog", "bicycle" },
        }));
        var objects = body.GetProperty("objects").EnumerateArray().ToList();
        Assert.Equal(["bicycle", "dog"], objects.Select(o => o.GetProperty("class_name").GetString()).Distinct().Order());
        var confidences = objects.Select(o => o.GetProperty("confidence").GetDouble()).ToList();
        Assert.Equal(confidences.OrderDescending(), confidences);
        Assert.All(objects, o => Assert.Equal(o.GetProperty("confidence").GetDouble(), o.GetProperty("bbox").GetProperty("confidence").GetDouble()));
        Assert.EndsWith("/dog.jpg", body.GetProperty("image_url").GetString());

        using var tooLow = await Client.PostAsJsonAsync("/api/v1/detect-objects", new { image_url = Url("dog.jpg"), confidence_threshold = 0.05 });
        await TransformApiTests.AssertProblem(tooLow, HttpStatusCode.UnprocessableEntity, "between 0.1 and 1", "confidence_threshold");
    }

    [Fact]
    public async Task Detect_faces_answers_each_face_as_an_object_named_face()
    {
        using var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(File.ReadAllBytes(TestPaths.RealImage("faces-19.jpg"))), "file", "faces-19.jpg");
        form.Add(new StringContent("0.7"), "confidence_threshold");
        var body = await OkJsonAsync(await Client.PostAsync("/api/v1/detect-faces", form));
        var faces = body.GetProperty("objects").EnumerateArray().ToList();
        Assert.Equal(5, faces.Count);
        Assert.All(faces, f => Assert.Equal("face", f.GetProperty("class_name").GetString()));
    }

    [Fact]
    public async Task Image_info_of_an_image_url_answers_the_old_shape_and_without_one_is_422()
    {
        var body = await OkJsonAsync(await Client.GetAsync("/api/v1/image-info?image_url=" + Uri.EscapeDataString(Url("dog.jpg"))));
        Assert.True(body.GetProperty("success").GetBoolean());
        var info = body.GetProperty("image_info");
        using var dog = Image.NewFromBuffer(Dog);
        Assert.Equal("JPEG", info.GetProperty("format").GetString());
        Assert.Equal("RGB", info.GetProperty("mode").GetString());
        Assert.Equal([dog.Width, dog.Height], info.GetProperty("size").EnumerateArray().Select(v => v.GetInt32()));
        Assert.Equal(dog.Width, info.GetProperty("width").GetInt32());
        Assert.Equal(Dog.Length, info.GetProperty("file_size").GetInt32());
        Assert.False(info.GetProperty("has_transparency").GetBoolean());
        Assert.NotEmpty(info.GetProperty("color_analysis").GetProperty("dominant_colors").EnumerateArray());

        using var missing = await Client.GetAsync("/api/v1/image-info");
        await TransformApiTests.AssertProblem(missing, HttpStatusCode.UnprocessableEntity, "image_url is required", "image_url");
    }

    [Fact]
    public async Task Batch_in_the_old_shape_queues_a_task_per_image_and_operation()
    {
        var body = await OkJsonAsync(await Client.PostAsJsonAsync("/api/v1/batch", new
        {
            image_urls = new[] { Url("dog.jpg"), Url("faces-19.jpg") },
            operations = new object[]
            {
                new { type = "resize", width = 300, height = 200 },
                new { type = "filter", filter_type = "blur", intensity = 1.5 },
            },
        }));
        Assert.Equal(4, body.GetProperty("total_tasks").GetInt32());
        var ids = body.GetProperty("task_ids").EnumerateArray().Select(i => i.GetString()!).ToList();
        Assert.Equal(4, ids.Distinct().Count());
        foreach (var id in ids)
            Assert.Equal("completed", (await FinishedTaskAsync(id)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Tasks_of_an_unknown_id_is_404()
    {
        using var response = await Client.GetAsync($"/api/v1/tasks/{Guid.NewGuid()}");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Health_probes_answer_as_healthz_and_readyz_do()
    {
        var live = await OkJsonAsync(await Client.GetAsync("/health/live"));
        Assert.Equal("alive", live.GetProperty("status").GetString());
        using var ready = await Client.GetAsync("/health/ready");
        using var readyz = await Client.GetAsync("/readyz");
        Assert.Equal(readyz.StatusCode, ready.StatusCode);
        var status = (await ready.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString();
        Assert.Equal((await readyz.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString(), status);
        Assert.Contains(status, new[] { "ready", "not_ready" });
        using var health = await Client.GetAsync("/health");
        using var healthSlash = await Client.GetAsync("/health/");
        Assert.Equal(health.StatusCode, healthSlash.StatusCode);
        Assert.Equal("application/json", healthSlash.Content.Headers.ContentType?.MediaType);
    }
}
