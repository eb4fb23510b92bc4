using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Iris.Tests.Support;

namespace Iris.Tests.Library;

/// <summary>
/// An image whose indexing job ended without indexing it (canceled here; retried out after crashes alike) reads as
/// failed even once job retention has deleted the job, and adding it again indexes it.
/// </summary>
public sealed class EndedIndexJobTests : IDisposable
{
    private readonly TempDirectory _data = new();

    public void Dispose() => _data.Dispose();

    private Dictionary<string, string?> Settings(int workers) => new()
    {
        ["Library:IndexTasks"] = "embed",
        ["Jobs:Database"] = _data.File("jobs.db"),
        ["Jobs:InputDirectory"] = _data.File("inputs"),
        ["Jobs:Workers"] = workers.ToString(),
        ["Jobs:PollIntervalMs"] = "50",
        ["Jobs:Retention"] = "00:00:01",
        ["Jobs:RetentionSweepInterval"] = "00:00:01",
        ["Storage:Directory"] = _data.File("images"),
        ["Library:IndexDatabase"] = _data.File("vectors.db"),
        ["Transforms:CacheDirectory"] = _data.File("transform-cache"),
    };

    [Fact]
    public async Task An_image_whose_index_job_was_canceled_and_deleted_reads_failed_and_a_second_add_indexes_it()
    {
        var flower = Path.Combine(FlowerReference.Folder, FlowerReference.Images[0].File);
        string id, firstJob;
        // No workers: the job stays queued until it is canceled.
        await using (var host = await IrisTestHost.StartAsync(Settings(workers: 0)))
        {
            id = await LibraryFixture.AddAsync(host.Client, flower, "ended");
            firstJob = (await host.Client.GetFromJsonAsync<JsonElement>($"/v1/images/{id}")).GetProperty("job_id").GetString()!;
            Assert.Equal(HttpStatusCode.OK, (await host.Client.DeleteAsync($"/v1/jobs/{firstJob}")).StatusCode);
        }

        await using var server = await IrisTestHost.StartAsync(Settings(workers: 1));
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while ((await server.Client.GetAsync($"/v1/jobs/{firstJob}")).StatusCode != HttpStatusCode.NotFound)
        {
            Assert.True(DateTime.UtcNow < deadline, "the canceled job was not swept past Jobs:Retention");
            await Task.Delay(200);
        }

        using var read = await server.Client.GetAsync($"/v1/images/{id}");
        var image = await read.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(read.StatusCode == HttpStatusCode.OK, image.ToString());
        Assert.Equal("failed", image.GetProperty("state").GetString());
        Assert.Contains("Jobs:Retention", image.GetProperty("error").GetString());

        Assert.Equal(id, await LibraryFixture.AddAsync(server.Client, flower, "ended"));
        var indexed = (await LibraryFixture.WaitIndexedAsync(server.Client, [id], TimeSpan.FromMinutes(2)))[id];
        Assert.Equal("indexed", indexed.GetProperty("state").GetString());
        Assert.NotEqual(firstJob, indexed.GetProperty("job_id").GetString());
    }
}
