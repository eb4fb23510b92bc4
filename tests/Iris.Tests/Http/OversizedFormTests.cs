using System.Net;
using System.Net.Http.Headers;
using Iris.Tests.Support;

namespace Iris.Tests.Http;

/// <summary>
/// A multipart body over the request limit is 413 on the routes that read the whole form before looking at its
/// files, as it is on the single-image routes: Kestrel's refusal is an IOException, which a malformed form is too.
/// </summary>
public sealed class OversizedFormTests
{
    [Fact]
    public async Task A_multipart_job_batch_over_the_body_limit_is_413_not_a_malformed_form()
    {
        using var data = new TempDirectory();
        var settings = TransformHost.Settings(data.Path);
        settings["Models:Enabled"] = "";
        // 100 KB images: Kestrel's body limit becomes 100 KB × 4/3 + 1 MiB.
        settings["Images:MaxBytes"] = "100000";
        await using var host = await IrisTestHost.StartAsync(settings);

        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(new byte[2_000_000]);
        file.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        form.Add(file, "image", "big.jpg");
        using var response = await host.Client.PostAsync("/v1/jobs", form);

        await JobsApiTests.ProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "too large");
    }
}
