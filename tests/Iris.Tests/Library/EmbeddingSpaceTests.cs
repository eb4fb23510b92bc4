using System.Text.Json;
using Iris.Cli;
using Iris.Configuration;
using Iris.Core.Library;
using Iris.Core.Library.Vectors;
using Iris.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Iris.Tests.Library;

/// <summary>
/// One index never mixes two embedding models: a library built with another model refuses new vectors with a clear
/// message, and a reindex builds the configured model's space beside the old one, resumably, then switches to it.
/// </summary>
public sealed class EmbeddingSpaceTests : IAsyncLifetime
{
    private readonly TempDirectory _data = new();
    private ServiceProvider _services = null!;
    private ImageLibrary Library => _services.GetRequiredService<ImageLibrary>();
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly IngestRequest Request = new(null, "flowers", [], null);
    private static readonly EmbeddingSpace Old = new("old-clip", "1", 512);

    public Task InitializeAsync()
    {
        var options = IrisConfiguration.Load(IrisConfiguration.Build(overrides: new Dictionary<string, string?>
        {
            ["Jobs:Database"] = _data.File("jobs.db"),
            ["Storage:Directory"] = _data.File("images"),
            ["Library:IndexDatabase"] = _data.File("vectors.db"),
            ["Library:IndexTasks"] = "embed",
            ["Models:CacheDirectory"] = _data.File("models"),
            ["Models:Mirror"] = TestPaths.ModelMirror,
        }));
        _services = CliServices.Create(options, s => s.AddIrisLibraryStandalone(options));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        _data.Dispose();
    }

    private static IngestItem Flower(int n)
    {
        var file = $"flower-{n:00}.png";
        return new IngestItem(File.ReadAllBytes(Path.Combine(FlowerReference.Folder, file)), file);
    }

    private async Task SimulateOldModelAsync(IEnumerable<string> ids)
    {
        // As if the library had been built with another model: its space is active and holds the images' vectors.
        var vector = new float[512];
        vector[0] = 1;
        foreach (var id in ids)
            await Library.Vectors.UpsertAsync(Old, id, vector, new VectorAttributes("", "flowers", null, 0, []), None);
        await Library.Store.SetSettingAsync("embedding_spaces", JsonSerializer.Serialize(new LibrarySpaces(Old, null), new JsonSerializerOptions(JsonSerializerDefaults.Web)), None);
    }

    [Fact]
    public async Task A_library_in_another_models_space_refuses_new_vectors_and_a_reindex_switches_it_resumably()
    {
        var ids = new List<string>();
        for (var i = 0; i < 4; i++) ids.Add((await Library.AddAndIndexAsync(Flower(i), Request, None)).Image.Id);
        var clip = (await Library.GetSpacesAsync(None)).Active!;
        Assert.StartsWith("clip-tiny@", clip.Key);
        var firstId = ids.Order(StringComparer.Ordinal).First();
        var firstVector = (await Library.Vectors.GetAsync(clip, firstId, None))!;
        await Library.Vectors.DropSpaceAsync(clip, None);
        await SimulateOldModelAsync(ids);

        var refused = await Assert.ThrowsAsync<EmbeddingSpaceMismatchException>(() => Library.AddAndIndexAsync(Flower(4), Request, None));
        Assert.Contains("old-clip@1/512", refused.Message);
        Assert.Contains("iris library reindex", refused.Message);
        var failed = await Library.GetAsync(Iris.Core.Storage.BlobIds.For(Flower(4).Bytes.Span), null, None);
        Assert.Equal(IndexState.Failed, failed.State);

        // A reindex that was interrupted after the first image: the new space already holds it.
        await Library.Vectors.UpsertAsync(clip, firstId, firstVector, new VectorAttributes("", "flowers", null, 0, []), None);
        await Library.Store.SetSettingAsync("embedding_spaces", JsonSerializer.Serialize(new LibrarySpaces(Old, clip), new JsonSerializerOptions(JsonSerializerDefaults.Web)), None);
        // Search still answers from the old space while the new one is built.
        var search = _services.GetRequiredService<LibrarySearch>();
        Assert.Equal(3, (await search.SearchAsync(new SearchQuery { ImageId = ids[0], K = 10 }, None)).Hits.Count);

        var result = await Library.ReindexAsync(null, None);
        Assert.Equal(Old, result.From);
        Assert.Equal(clip, result.To);
        Assert.Equal(4, result.Images);
        Assert.Equal(3, result.Embedded);
        Assert.Equal(new LibrarySpaces(clip, null), await Library.GetSpacesAsync(None));
        Assert.Equal(0, await Library.Vectors.CountAsync(Old, None));
        Assert.Equal(4, await Library.Vectors.CountAsync(clip, None));

        var query = FlowerReference.Queries[0];
        var expected = FlowerReference.Images.Take(4).MaxBy(i => FlowerReference.Cosine(query.TextEmbeds, i.ClipImageEmbeds))!.File;
        var hits = await search.SearchAsync(new SearchQuery { Text = query.Text, Mode = SearchMode.Semantic, K = 1 }, None);
        Assert.Equal(expected, hits.Hits[0].Image.FileName);
        // Now the configured model's space is the library's: the failed image indexes.
        Assert.Equal(IndexState.Indexed, (await Library.AddAndIndexAsync(Flower(4), Request, None)).Image.State);
    }

    /// <summary>Runs a callback on the first report, on the reindex's own thread (Progress&lt;T&gt; would post it elsewhere).</summary>
    private sealed class OnFirstReport(Func<Task> callback) : IProgress<(long Done, long Total)>
    {
        private bool _done;

        public void Report((long Done, long Total) value)
        {
            if (_done) return;
            _done = true;
            callback().GetAwaiter().GetResult();
        }
    }

    [Fact]
    public async Task An_image_indexed_by_an_old_model_server_behind_the_reindex_cursor_gets_its_vector_before_the_switch()
    {
        var ids = new List<string>();
        for (var i = 0; i < 3; i++) ids.Add((await Library.AddAndIndexAsync(Flower(i), Request, None)).Image.Id);
        var clip = (await Library.GetSpacesAsync(None)).Active!;
        await Library.Vectors.DropSpaceAsync(clip, None);
        await SimulateOldModelAsync(ids);

        // While the reindex walks, a server still on the old model indexes one more image, whose id sorts before every
        // other: it appears behind the cursor of the walk that has just passed the first image.
        var late = Enumerable.Range(3, 17).Select(Flower)
            .First(f => string.CompareOrdinal(Iris.Core.Storage.BlobIds.For(f.Bytes.Span), ids.Min(StringComparer.Ordinal)) < 0);
        var lateId = await _services.GetRequiredService<Iris.Core.Storage.IBlobStore>().PutAsync(late.Bytes, None);
        await Library.Store.AddAsync(new LibraryImage
        {
            Id = lateId, Collection = "flowers", FileName = late.FileName, MediaType = "image/png", Bytes = late.Bytes.Length, AddedAt = DateTimeOffset.UtcNow,
        }, None);
        var result = await Library.ReindexAsync(new OnFirstReport(async () =>
        {
            var vector = new float[512];
            vector[0] = 1;
            await Library.Vectors.UpsertAsync(Old, lateId, vector, new VectorAttributes("", "flowers", null, 0, []), None);
            await Library.Store.MarkIndexedAsync(lateId, new IndexedFields(), DateTimeOffset.UtcNow, None);
        }), None);

        Assert.Equal(clip, result.To);
        Assert.Equal(new LibrarySpaces(clip, null), await Library.GetSpacesAsync(None));
        Assert.NotNull(await Library.Vectors.GetAsync(clip, lateId, None));
        Assert.Equal(4, await Library.Vectors.CountAsync(clip, None));
    }

    [Fact]
    public async Task A_reindex_in_the_models_space_gives_an_indexed_image_without_a_vector_its_vector()
    {
        var ids = new List<string>();
        for (var i = 0; i < 3; i++) ids.Add((await Library.AddAndIndexAsync(Flower(i), Request, None)).Image.Id);
        var clip = (await Library.GetSpacesAsync(None)).Active!;
        await Library.Vectors.DeleteAsync(ids[1], None);

        var result = await Library.ReindexAsync(null, None);

        Assert.Equal((clip, clip, 3L, 1L), (result.From, result.To, result.Images, result.Embedded));
        Assert.NotNull(await Library.Vectors.GetAsync(clip, ids[1], None));
        Assert.Equal(0, (await Library.ReindexAsync(null, None)).Embedded);
    }
}
