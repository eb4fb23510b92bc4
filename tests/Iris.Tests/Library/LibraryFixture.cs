using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Iris.Tests.Support;

namespace Iris.Tests.Library;

/// <summary>
/// One server with a library: the 20 flowers in collection <c>flowers</c> and three real photos in <c>real</c>, indexed by
/// the server's own worker with embed, describe, detect and faces.
/// </summary>
public sealed class LibraryFixture : IAsyncLifetime
{
    private readonly TempDirectory _data = new();

    public IrisTestHost Host { get; private set; } = null!;
    public HttpClient Client => Host.Client;

    /// <summary>Flower file name → image id.</summary>
    public Dictionary<string, string> Flowers { get; } = [];

    /// <summary>Real photo file name → image id.</summary>
    public Dictionary<string, string> Real { get; } = [];

    public static readonly string[] RealPhotos = ["dog.jpg", "faces-13.jpg", "ocr-latin.jpg"];

    public async Task InitializeAsync()
    {
        Host = await IrisTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Library:IndexTasks"] = "embed,describe,detect,faces",
            ["Jobs:Workers"] = "2",
            ["Jobs:PollIntervalMs"] = "50",
            ["Storage:Directory"] = Path.Combine(_data.Path, "images"),
            ["Transforms:CacheDirectory"] = Path.Combine(_data.Path, "transform-cache"),
        });
        foreach (var image in FlowerReference.Images)
            Flowers[image.File] = await AddAsync(Client, Path.Combine(FlowerReference.Folder, image.File), "flowers");
        foreach (var photo in RealPhotos)
            Real[photo] = await AddAsync(Client, TestPaths.RealImage(photo), "real", tags: photo == "dog.jpg" ? "pet,garden" : null);
        await WaitIndexedAsync(Client, [.. Flowers.Values, .. Real.Values], TimeSpan.FromMinutes(4));
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        _data.Dispose();
    }

    public static async Task<string> AddAsync(HttpClient client, string path, string collection, string? tags = null)
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(await File.ReadAllBytesAsync(path));
        file.Headers.ContentType = MediaTypeHeaderValue.Parse(path.EndsWith(".png", StringComparison.Ordinal) ? "image/png" : "image/jpeg");
        form.Add(file, "image", Path.GetFileName(path));
        form.Add(new StringContent(collection), "collection");
        if (tags is not null) form.Add(new StringContent(tags), "tags");
        using var response = await client.PostAsync("/v1/images", form);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("images")[0].GetProperty("image_id").GetString()!;
    }

    public static async Task<Dictionary<string, JsonElement>> WaitIndexedAsync(HttpClient client, IReadOnlyCollection<string> ids, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var images = new Dictionary<string, JsonElement>();
            foreach (var id in ids) images[id] = await client.GetFromJsonAsync<JsonElement>($"/v1/images/{id}");
            var pending = images.Values.Where(i => i.GetProperty("state").GetString() == "queued").ToList();
            if (pending.Count == 0) return images;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{pending.Count} of {ids.Count} images are still queued: {pending[0]}");
            await Task.Delay(200);
        }
    }
}
