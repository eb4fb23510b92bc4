using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Iris.Core.Jobs;
using Iris.Http.Facades;
using Iris.Tests.Support;

namespace Iris.Tests.Facades;

/// <summary>
/// The asynchronous description service's job routes (seed 001) as its clients call them: submit a file, poll the
/// status, read the result. Job ids come back as canonical UUIDs and timestamps with six fraction digits.
/// </summary>
public sealed class DescriptionJobsFacadeTests(ReadyIrisHost fixture) : IClassFixture<ReadyIrisHost>
{
    private const string CanonicalUuid = "^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$";
    private const string SixDigitUtc = @"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$";

    private HttpClient Client => fixture.Host.Client;

    [Fact]
    public async Task Submitted_job_is_named_by_a_dashed_uuid_that_the_status_and_result_routes_take_back()
    {
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(await File.ReadAllBytesAsync(Path.Combine(TestPaths.Flowers, "flower-03.png"))), "file", "flower.png" },
        };
        using var submit = await Client.PostAsync("/api/v1/submit", form);
        Assert.Equal(HttpStatusCode.OK, submit.StatusCode);
        var jobId = (await submit.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("job_id").GetString()!;
        Assert.Matches(CanonicalUuid, jobId);
        Assert.Equal(jobId, Guid.Parse(jobId).ToString("D"));

        var deadline = DateTime.UtcNow.AddSeconds(120);
        JsonElement status;
        do
        {
            status = await Client.GetFromJsonAsync<JsonElement>($"/api/v1/status/{jobId}");
            Assert.Equal(jobId, status.GetProperty("job_id").GetString());
            Assert.Matches(SixDigitUtc, status.GetProperty("created_at").GetString());
            if (status.GetProperty("status").GetString() is "done" or "failed") break;
            await Task.Delay(50);
        } while (DateTime.UtcNow < deadline);
        Assert.Equal("done", status.GetProperty("status").GetString());

        var result = await Client.GetFromJsonAsync<JsonElement>($"/api/v1/result/{jobId}");
        Assert.Equal(jobId, result.GetProperty("job_id").GetString());
        Assert.False(string.IsNullOrWhiteSpace(result.GetProperty("image_description").GetString()));
        Assert.Matches(SixDigitUtc, result.GetProperty("created_at").GetString());
        Assert.Matches(SixDigitUtc, result.GetProperty("completed_at").GetString());
        Assert.True(DateTimeOffset.Parse(result.GetProperty("completed_at").GetString()!, CultureInfo.InvariantCulture)
                    >= DateTimeOffset.Parse(result.GetProperty("created_at").GetString()!, CultureInfo.InvariantCulture));

        // Iris's own routes keep their 32-digit ids, and the compatibility routes accept those too.
        var irisId = Guid.Parse(jobId).ToString("N");
        Assert.Equal("done", (await Client.GetFromJsonAsync<JsonElement>($"/v1/jobs/{irisId}")).GetProperty("status").GetString());
        Assert.Equal(jobId, (await Client.GetFromJsonAsync<JsonElement>($"/api/v1/result/{irisId}")).GetProperty("job_id").GetString());
        Assert.Equal(jobId, (await Client.GetFromJsonAsync<JsonElement>($"/api/v1/status/{jobId.ToUpperInvariant()}")).GetProperty("job_id").GetString());
    }

    [Fact]
    public async Task Unknown_job_is_404_in_either_form()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync($"/api/v1/status/{Guid.NewGuid():D}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync("/api/v1/result/not-a-uuid")).StatusCode);
    }

    [Fact]
    public void Job_ids_are_version_7_uuids_that_sort_in_creation_order()
    {
        var ids = Enumerable.Range(0, 5000).Select(_ => Job.NewId()).ToList();
        Assert.Equal(ids.Order(StringComparer.Ordinal), ids);
        Assert.All(ids, id => Assert.Matches(CanonicalUuid, DescriptionJobsFacade.Dashed(id)));
        Assert.All(ids, id => Assert.Equal(7, Guid.ParseExact(id, "N").Version));
    }

    [Fact]
    public void Timestamps_always_carry_six_fraction_digits()
    {
        var whole = new DateTimeOffset(2026, 12, 3, 11, 48, 43, TimeSpan.Zero);
        Assert.Equal("2026-12-03T11:48:43.000000+00:00", DescriptionJobsFacade.Timestamp(whole));
        Assert.Equal("2026-12-03T11:48:43.123456+00:00", DescriptionJobsFacade.Timestamp(whole.AddTicks(1_234_567)));
        Assert.Equal("2026-12-03T10:48:43.000000+00:00", DescriptionJobsFacade.Timestamp(whole.ToOffset(TimeSpan.FromHours(2)).AddHours(-1)));
    }
}
