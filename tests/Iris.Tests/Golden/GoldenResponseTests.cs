using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Iris.Tests.Support;

namespace Iris.Tests.Golden;

/// <summary>
/// Golden responses: one real request per route over the shared photos, its whole answer (status, content type, body)
/// compared with the file of the same name in tests/Iris.Tests/Golden/Responses. They pin the HTTP contracts byte for
/// byte (property order, number text, escaping) so a refactor of the routes cannot change an answer unnoticed; only
/// durations, clock readings, request ids and job ids are replaced by a placeholder (see <see cref="GoldenResponse"/>).
/// ONNX Runtime on CPU gives the same numbers run after run here, so no value is rounded.
///
/// To regenerate after an intended contract change: IRIS_UPDATE_GOLDEN=1 scripts/test.sh --filter "FullyQualifiedName~Golden",
/// then review the diff of Golden/Responses before committing it.
/// </summary>
public sealed class GoldenResponseTests(GoldenResponseTests.Server server) : IClassFixture<GoldenResponseTests.Server>
{
    /// <summary>The real server with the model mirror, and a job worker that polls often so job tests finish quickly.</summary>
    public sealed class Server : IAsyncLifetime
    {
        private readonly TempDirectory _transformCache = new();

        public IrisTestHost Host { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Host = await IrisTestHost.StartAsync(new Dictionary<string, string?>
            {
                ["Jobs:Workers"] = "1",
                ["Jobs:PollIntervalMs"] = "50",
                // So the URL API can be pinned without computing a signature.
                ["Transforms:AllowUnsigned"] = "true",
                // A fresh result cache, so the URL API's first answer is always a miss (the default folder outlives a run).
                ["Transforms:CacheDirectory"] = _transformCache.Path,
            });
            await Host.WaitUntilReadyAsync();
        }

        public async Task DisposeAsync()
        {
            await Host.DisposeAsync();
            _transformCache.Dispose();
        }
    }

    private HttpClient Client => server.Host.Client;

    private static byte[] Real(string name) => File.ReadAllBytes(TestPaths.RealImage(name));
    private static byte[] Flower(int index) => File.ReadAllBytes(Path.Combine(TestPaths.Flowers, $"flower-{index:00}.png"));

    private static ByteArrayContent Raw(byte[] bytes, string contentType)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return content;
    }

    private static ByteArrayContent Jpeg(string name) => Raw(Real(name), "image/jpeg");
    private static ByteArrayContent Png(int flower) => Raw(Flower(flower), "image/png");

    private static MultipartFormDataContent Form(string field, byte[] image, string fileName, params (string Name, string Value)[] fields)
    {
        var form = new MultipartFormDataContent { { new ByteArrayContent(image), field, fileName } };
        foreach (var (name, value) in fields) form.Add(new StringContent(value), name);
        return form;
    }

    private async Task PostMatchesAsync(string golden, string path, HttpContent content)
    {
        using var response = await Client.PostAsync(path, content);
        await GoldenResponse.AssertMatchesAsync(golden, response);
    }

    // ---- /v1 task routes ----

    [Fact]
    public Task Detect_answers_the_documented_document_for_the_dog_photo() =>
        PostMatchesAsync("detect-dog", "/v1/detect", Jpeg("dog.jpg"));

    [Fact]
    public Task Detect_reads_min_confidence_and_max_detections_from_form_fields() =>
        PostMatchesAsync("detect-coco-785-form", "/v1/detect",
            Form("image", Real("coco-000000000785.jpg"), "coco.jpg", ("min_confidence", "0.25"), ("max_detections", "3")));

    [Fact]
    public Task Faces_answers_the_documented_document_for_five_faces() =>
        PostMatchesAsync("faces-19", "/v1/faces", Jpeg("faces-19.jpg"));

    [Fact]
    public Task Faces_with_the_larger_model_reads_max_faces_and_min_confidence_from_the_query() =>
        PostMatchesAsync("faces-16-rfb-640", "/v1/faces?model=ultraface-rfb-640&min_confidence=0.8&max_faces=3", Jpeg("faces-16.jpg"));

    [Fact]
    public Task Classify_answers_the_top_three_petal_colours_of_a_flower() =>
        PostMatchesAsync("classify-flower-02", "/v1/classify?model=petal-color&top_k=3", Png(2));

    [Fact]
    public Task Classify_with_labels_answers_the_zero_shot_document() =>
        PostMatchesAsync("classify-zero-shot-flower-04", "/v1/classify",
            Form("image", Flower(4), "flower.png", ("labels", "red,white,yellow,purple"), ("prompt_template", "a photo of a {} flower")));

    [Fact]
    public Task Ocr_answers_the_text_and_lines_of_a_latin_photo() =>
        PostMatchesAsync("ocr-latin", "/v1/ocr", Jpeg("ocr-latin.jpg"));

    [Fact]
    public Task Ocr_answers_the_text_and_lines_of_a_care_label() =>
        PostMatchesAsync("ocr-care-label", "/v1/ocr", Jpeg("ocr-care-label.jpg"));

    [Fact]
    public Task Describe_answers_the_caption_of_a_flower() =>
        PostMatchesAsync("describe-flower-03", "/v1/describe", Png(3));

    [Fact]
    public Task Describe_with_beams_and_tokens_answers_the_caption_with_its_token_ids() =>
        PostMatchesAsync("describe-flower-03-beams-tokens", "/v1/describe?num_beams=2&tokens=true", Png(3));

    [Fact]
    public Task Embed_answers_the_image_embedding_of_a_flower() =>
        PostMatchesAsync("embed-image-flower-00", "/v1/embed", Png(0));

    [Fact]
    public Task Embed_answers_the_text_embedding_with_its_tokens() =>
        PostMatchesAsync("embed-text-red-flower", "/v1/embed?tokens=true", JsonContent.Create(new { text = "a red flower" }));

    [Fact]
    public Task Info_answers_the_documented_document_for_the_dog_photo() =>
        PostMatchesAsync("info-dog", "/v1/info", Jpeg("dog.jpg"));

    [Fact]
    public Task Info_answers_the_displayed_size_and_exif_of_a_rotated_photo_with_gps_requested() =>
        PostMatchesAsync("info-exif-orientation-gps", "/v1/info?include_gps=true", Jpeg("ocr-exif-orientation.jpg"));

    [Fact]
    public Task Analyze_runs_the_default_tasks_on_the_dog_photo() =>
        PostMatchesAsync("analyze-default-dog", "/v1/analyze", Jpeg("dog.jpg"));

    [Fact]
    public Task Analyze_runs_describe_ocr_and_classify_with_prefixed_parameters() =>
        PostMatchesAsync("analyze-describe-ocr-classify-ocr-latin",
            "/v1/analyze?tasks=describe,ocr,classify&describe_num_beams=2&describe_max_new_tokens=12&classify_top_k=2&ocr_min_confidence=0.5",
            Jpeg("ocr-latin.jpg"));

    [Fact]
    public Task Analyze_runs_detect_faces_classify_and_info_from_form_fields() =>
        PostMatchesAsync("analyze-form-faces-13", "/v1/analyze",
            Form("image", Real("faces-13.jpg"), "faces.jpg", ("tasks", "detect,faces,classify,info"), ("detect_min_confidence", "0.3"),
                ("faces_max_faces", "1"), ("classify_top_k", "1")));

    // ---- DeepStack / CodeProject.AI ----

    [Fact]
    public Task DeepStack_detection_answers_the_documented_document_for_the_dog_photo() =>
        PostMatchesAsync("deepstack-detection-dog", "/v1/vision/detection", Form("image", Real("dog.jpg"), "dog.jpg", ("api_key", "ignored")));

    [Fact]
    public Task DeepStack_custom_model_answers_like_detection_with_the_named_model() =>
        PostMatchesAsync("deepstack-custom-yolox-nano-coco-285", "/v1/vision/custom/yolox-nano",
            Form("image", Real("coco-000000000285.jpg"), "coco.jpg", ("min_confidence", "0.3")));

    [Fact]
    public Task DeepStack_face_answers_unlabelled_predictions_for_five_faces() =>
        PostMatchesAsync("deepstack-face-19", "/v1/vision/face", Form("image", Real("faces-19.jpg"), "faces.jpg", ("min_confidence", "0.7")));

    // ---- transforms ----

    [Fact]
    public Task Transform_answers_the_same_webp_bytes_for_a_resize_sharpen_pipeline() =>
        PostMatchesAsync("transform-dog-webp", "/v1/transform?ops=resize:w=300,h=200,fit=cover;sharpen:sigma=1;format:webp,q=80", Jpeg("dog.jpg"));

    [Fact]
    public async Task Transform_answers_304_without_a_body_when_the_client_has_the_etag()
    {
        const string path = "/v1/transform?ops=resize:w=120;format:png";
        using var first = await Client.PostAsync(path, Jpeg("dog.jpg"));
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = Jpeg("dog.jpg") };
        request.Headers.TryAddWithoutValidation("If-None-Match", first.Headers.ETag!.ToString());
        using var revalidated = await Client.SendAsync(request);
        await GoldenResponse.AssertMatchesAsync("transform-dog-png-not-modified", revalidated);
    }

    [Fact]
    public Task Compatibility_resize_answers_the_same_png_bytes() =>
        PostMatchesAsync("compat-resize-dog-png", "/api/v1/resize?width=200&height=200&fit=cover&format=png", Jpeg("dog.jpg"));

    [Fact]
    public Task Compatibility_batch_answers_every_image_and_pipeline_with_its_data() =>
        PostMatchesAsync("compat-batch-flower-01", "/api/v1/batch",
            JsonContent.Create(new { images = new[] { Convert.ToBase64String(Flower(1)) }, ops = new[] { "resize:w=16;format:png", "flip;grayscale;format:png" } }));

    [Fact]
    public Task Compatibility_crop_answers_the_same_jpeg_bytes_for_a_smart_crop() =>
        PostMatchesAsync("compat-crop-dog-attention", "/api/v1/crop?width=160&height=120&gravity=attention&format=jpg&quality=80", Jpeg("dog.jpg"));

    [Fact]
    public Task Compatibility_filter_answers_the_same_png_bytes_for_sepia() =>
        PostMatchesAsync("compat-filter-flower-05-sepia", "/api/v1/filter",
            Form("image", Flower(5), "flower.png", ("filter", "sepia"), ("format", "png")));

    [Fact]
    public Task Compatibility_enhance_answers_the_same_png_bytes() =>
        PostMatchesAsync("compat-enhance-flower-06", "/api/v1/enhance?brightness=1.2&contrast=1.1&saturation=0.8&format=png", Png(6));

    [Fact]
    public async Task Upload_answers_the_content_addressed_id_and_the_url_api_serves_its_transform()
    {
        using var upload = await Client.PostAsync("/api/v1/upload", Png(7));
        await GoldenResponse.AssertMatchesAsync("upload-flower-07", upload);
        var id = (await JsonDocument.ParseAsync(await upload.Content.ReadAsStreamAsync())).RootElement.GetProperty("id").GetString()!;
        using var image = await Client.GetAsync($"/v1/img/unsafe/resize:w=64;format:png/{id}");
        await GoldenResponse.AssertMatchesAsync("img-url-flower-07-resize-png", image);
    }

    // ---- jobs ----

    [Fact]
    public async Task Job_with_detect_and_describe_answers_its_submission_document_and_result_with_generated_by()
    {
        using var submit = await Client.PostAsync("/v1/jobs?tasks=detect,describe&min_confidence=0.5", Form("image", Real("dog.jpg"), "dog.jpg"));
        var id = (await JsonDocument.ParseAsync(await submit.Content.ReadAsStreamAsync())).RootElement.GetProperty("id").GetString()!;
        var ids = new Dictionary<string, string> { [id] = "<job-id>" };
        await GoldenResponse.AssertMatchesAsync("job-detect-describe-submit", submit, ids);

        await WaitFinishedAsync(id);
        using var job = await Client.GetAsync($"/v1/jobs/{id}");
        await GoldenResponse.AssertMatchesAsync("job-detect-describe-job", job, ids);
        using var result = await Client.GetAsync($"/v1/jobs/{id}/result");
        await GoldenResponse.AssertMatchesAsync("job-detect-describe-result", result, ids);
    }

    [Fact]
    public async Task Compatibility_submit_and_result_answer_the_documented_shapes_with_the_caption()
    {
        using var submit = await Client.PostAsync("/api/v1/submit", Form("file", Flower(3), "flower.png"));
        var id = (await JsonDocument.ParseAsync(await submit.Content.ReadAsStreamAsync())).RootElement.GetProperty("job_id").GetString()!;
        var ids = new Dictionary<string, string> { [id] = "<job-id>" };
        await GoldenResponse.AssertMatchesAsync("compat-submit-flower-03", submit, ids);

        await WaitFinishedAsync(id);
        using var status = await Client.GetAsync($"/api/v1/status/{id}");
        await GoldenResponse.AssertMatchesAsync("compat-status-flower-03-done", status, ids);
        using var result = await Client.GetAsync($"/api/v1/result/{id}");
        await GoldenResponse.AssertMatchesAsync("compat-result-flower-03", result, ids);
    }

    private async Task WaitFinishedAsync(string id)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (true)
        {
            var job = await Client.GetFromJsonAsync<JsonElement>($"/v1/jobs/{id}");
            if (job.GetProperty("status").GetString() is "done" or "failed" or "canceled") return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException(job.ToString());
            await Task.Delay(50);
        }
    }

    // ---- problems ----

    [Fact]
    public Task Detect_with_min_confidence_out_of_range_answers_the_documented_problem() =>
        PostMatchesAsync("problem-detect-min-confidence", "/v1/detect?min_confidence=2", Jpeg("dog.jpg"));

    [Fact]
    public Task Analyze_with_unknown_tasks_answers_the_documented_problem() =>
        PostMatchesAsync("problem-analyze-unknown-task", "/v1/analyze?tasks=detect,colours,ocr2", Png(0));

    [Fact]
    public Task Analyze_with_describe_num_beams_out_of_range_answers_the_documented_problem() =>
        PostMatchesAsync("problem-analyze-describe-num-beams", "/v1/analyze?tasks=describe&describe_num_beams=0", Png(0));

    /// <summary>The messages of every kind of bad request, since the refactor merges the parameter readers and their exceptions.</summary>
    [Theory]
    [InlineData("problem-classify-top-k", "/v1/classify?top_k=0")]
    [InlineData("problem-classify-unknown-model", "/v1/classify?model=nope")]
    [InlineData("problem-classify-wrong-kind-of-model", "/v1/classify?model=yolox-nano")]
    [InlineData("problem-zero-shot-without-labels", "/v1/classify?model=clip-tiny")]
    [InlineData("problem-zero-shot-template-without-braces", "/v1/classify?labels=red,white&prompt_template=flower")]
    [InlineData("problem-faces-max-faces", "/v1/faces?max_faces=abc")]
    [InlineData("problem-ocr-min-confidence", "/v1/ocr?min_confidence=-1")]
    [InlineData("problem-describe-num-beams", "/v1/describe?num_beams=99")]
    [InlineData("problem-describe-tokens", "/v1/describe?tokens=maybe")]
    [InlineData("problem-embed-wrong-kind-of-model", "/v1/embed?model=petal-color")]
    [InlineData("problem-info-include-gps", "/v1/info?include_gps=maybe")]
    [InlineData("problem-analyze-classify-top-k", "/v1/analyze?tasks=classify&classify_top_k=-1")]
    [InlineData("problem-analyze-faces-wrong-kind-of-model", "/v1/analyze?tasks=faces&faces_model=yolox-nano")]
    [InlineData("problem-analyze-ocr-min-confidence", "/v1/analyze?tasks=ocr&ocr_min_confidence=x")]
    [InlineData("problem-deepstack-custom-unknown-model", "/v1/vision/custom/nope")]
    [InlineData("problem-deepstack-face-min-confidence", "/v1/vision/face?min_confidence=5")]
    [InlineData("problem-jobs-unknown-task", "/v1/jobs?tasks=detect,sharpen")]
    [InlineData("problem-transform-unknown-operation", "/v1/transform?ops=explode:w=3")]
    [InlineData("problem-compat-resize-width", "/api/v1/resize?width=-3")]
    public Task Bad_parameters_answer_the_documented_problem_document(string golden, string path) =>
        PostMatchesAsync(golden, path, Png(0));

    [Fact]
    public Task Embed_with_empty_text_answers_the_documented_problem() =>
        PostMatchesAsync("problem-embed-empty-text", "/v1/embed", JsonContent.Create(new { text = " " }));

    [Fact]
    public Task Compatibility_submit_with_two_files_answers_the_documented_problem()
    {
        var form = Form("file", Flower(0), "a.png");
        form.Add(new ByteArrayContent(Flower(1)), "file", "b.png");
        return PostMatchesAsync("problem-compat-submit-two-files", "/api/v1/submit", form);
    }

    [Fact]
    public Task Random_bytes_answer_the_unsupported_format_problem() =>
        PostMatchesAsync("problem-detect-random-bytes", "/v1/detect", Raw(Enumerable.Range(0, 256).Select(i => (byte)(i * 37 + 11)).ToArray(), "application/octet-stream"));

    [Fact]
    public Task Truncated_jpeg_answers_the_corrupt_image_problem() =>
        PostMatchesAsync("problem-analyze-truncated-jpeg", "/v1/analyze", Raw(Real("dog.jpg")[..4000], "image/jpeg"));

    [Fact]
    public Task Empty_body_answers_the_no_image_problem() =>
        PostMatchesAsync("problem-ocr-empty-body", "/v1/ocr", Raw([], "image/jpeg"));

    [Fact]
    public Task DeepStack_detection_with_a_bad_min_confidence_answers_the_problem_with_deepstack_fields() =>
        PostMatchesAsync("problem-deepstack-min-confidence", "/v1/vision/detection",
            Form("image", Real("dog.jpg"), "dog.jpg", ("min_confidence", "high")));
}
