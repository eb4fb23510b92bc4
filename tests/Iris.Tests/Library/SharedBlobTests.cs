using System.Net;
using Iris.Core.Storage;
using Iris.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Iris.Tests.Library;

/// <summary>
/// Ids are content hashes, so a library image shares its blob with an upload or a transform output of the same bytes,
/// and with an add of the same image. Deleting the library image must leave the bytes whenever another still needs
/// them, even when that other lands in the middle of the delete (made deterministic here by a store that runs it
/// just before the bytes are deleted).
/// </summary>
public sealed class SharedBlobTests : IDisposable
{
    private readonly TempDirectory _data = new();

    public void Dispose() => _data.Dispose();

    /// <summary>The real local store, running <see cref="BeforeDelete"/> just before it deletes.</summary>
    private sealed class InterruptedDeletes(IBlobStore inner) : IBlobStore
    {
        public Func<Task>? BeforeDelete { get; set; }
        public Task<string> PutAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => inner.PutAsync(data, cancellationToken);
        public Task<string> PutKeptAsync(ReadOnlyMemory<byte> data, string? owner, CancellationToken cancellationToken) => inner.PutKeptAsync(data, owner, cancellationToken);
        public Task<bool> IsKeptAsync(string id, string? owner, CancellationToken cancellationToken) => inner.IsKeptAsync(id, owner, cancellationToken);
        public Task<byte[]?> GetAsync(string id, CancellationToken cancellationToken) => inner.GetAsync(id, cancellationToken);

        public async Task<bool> DeleteAsync(string id, CancellationToken cancellationToken)
        {
            if (BeforeDelete is { } interruption)
            {
                BeforeDelete = null;
                await interruption();
            }
            return await inner.DeleteAsync(id, cancellationToken);
        }
    }

    private async Task<(IrisTestHost Host, InterruptedDeletes Blobs)> StartAsync()
    {
        var blobs = new InterruptedDeletes(new LocalDiskBlobStore(_data.File("images")));
        var host = await IrisTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Library:IndexTasks"] = "embed",
            ["Jobs:Workers"] = "0",
            ["Storage:Directory"] = _data.File("images"),
            ["Transforms:CacheDirectory"] = _data.File("transform-cache"),
            ["Transforms:AllowUnsigned"] = "true",
        }, replaceServices: services => services.AddSingleton<IBlobStore>(blobs));
        return (host, blobs);
    }

    private static string Photo => TestPaths.RealImage("coco-000000000785.jpg");

    [Fact]
    public async Task An_add_of_the_same_image_during_its_delete_keeps_the_bytes_of_the_image_it_leaves()
    {
        var (host, blobs) = await StartAsync();
        await using var _ = host;
        var id = await LibraryFixture.AddAsync(host.Client, Photo, "racing");
        blobs.BeforeDelete = async () => Assert.Equal(id, await LibraryFixture.AddAsync(host.Client, Photo, "racing"));

        Assert.Equal(HttpStatusCode.NoContent, (await host.Client.DeleteAsync($"/v1/images/{id}")).StatusCode);

        Assert.Null(blobs.BeforeDelete);
        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync($"/v1/images/{id}")).StatusCode);
        using var served = await host.Client.GetAsync($"/images/{id}");
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal(await File.ReadAllBytesAsync(Photo), await served.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task An_upload_of_the_same_bytes_during_the_delete_keeps_them_for_its_id()
    {
        var (host, blobs) = await StartAsync();
        await using var _ = host;
        var bytes = await File.ReadAllBytesAsync(Photo);
        var id = await LibraryFixture.AddAsync(host.Client, Photo, "racing");
        blobs.BeforeDelete = async () =>
        {
            using var body = new ByteArrayContent(bytes);
            body.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("image/jpeg");
            Assert.Equal(HttpStatusCode.Created, (await host.Client.PostAsync("/api/v1/upload", body)).StatusCode);
        };

        Assert.Equal(HttpStatusCode.NoContent, (await host.Client.DeleteAsync($"/v1/images/{id}")).StatusCode);

        Assert.Null(blobs.BeforeDelete);
        Assert.Equal(HttpStatusCode.NotFound, (await host.Client.GetAsync($"/images/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync($"/v1/img/unsafe/-/{id}")).StatusCode);
        Assert.Equal(bytes, await blobs.GetAsync(id, CancellationToken.None));
    }
}
