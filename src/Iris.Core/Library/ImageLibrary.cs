using System.Globalization;
using System.Text.Json;
using Iris.Core.Captioning;
using Iris.Core.Detection;
using Iris.Core.Faces;
using Iris.Core.Imaging;
using Iris.Core.Inspection;
using Iris.Core.Jobs;
using Iris.Core.Library.People;
using Iris.Core.Library.Vectors;
using Iris.Core.Models;
using Iris.Core.Moderation;
using Iris.Core.Ocr;
using Iris.Core.Storage;
using Iris.Core.Tasks;
using Iris.Core.Tasks.Embeddings;
using Iris.Core.Tasks.Faces;
using Microsoft.Extensions.Logging;

namespace Iris.Core.Library;

/// <summary>The embedding spaces of the library: the one searched, and the one a reindex is building beside it.</summary>
public sealed record LibrarySpaces(EmbeddingSpace? Active, EmbeddingSpace? Pending);

/// <summary>What one indexing run found, and how long each part took.</summary>
public sealed record IndexOutcome(LibraryImage Image, IReadOnlyList<ModelVersion> GeneratedBy);

/// <summary>
/// The image library: ingest (content-addressed bytes in the <see cref="IBlobStore"/>, a row in the
/// <see cref="ILibraryStore"/>, a durable indexing job), indexing (the analysis tasks on one decode, the vector into
/// the active embedding space, the text into the full-text index) and removal. Every step is idempotent: the same
/// bytes give the same id, and indexing an image again replaces what the first run wrote.
/// </summary>
public sealed class ImageLibrary
{
    private const string SpacesKey = "embedding_spaces";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly ILibraryStore _store;
    private readonly IBlobStore _blobs;
    private readonly IVectorIndex _vectors;
    private readonly ImageAnalyzer _analyzer;
    private readonly EmbedTask _embed;
    private readonly ModelCatalog _catalog;
    private readonly JobService? _jobs;
    private readonly TimeProvider _clock;
    private readonly ILogger? _logger;
    private readonly IReadOnlyList<IImageTask> _tasks;
    private readonly bool _embeds;
    private readonly LibraryPeople? _people;
    private readonly FaceEmbedTask? _faceEmbed;

    /// <param name="faceEmbed">The <c>face-embed</c> task: with it in Library:IndexTasks, indexing keeps each face's descriptor for <paramref name="people"/>.</param>
    public ImageLibrary(ILibraryStore store, IBlobStore blobs, IVectorIndex vectors, ImageAnalyzer analyzer, EmbedTask embed, ModelCatalog catalog,
        LibrarySettings settings, JobService? jobs = null, TimeProvider? clock = null, ILogger<ImageLibrary>? logger = null,
        FaceEmbedTask? faceEmbed = null, LibraryPeople? people = null)
    {
        _store = store;
        _blobs = blobs;
        _vectors = vectors;
        _analyzer = analyzer;
        _embed = embed;
        _catalog = catalog;
        _jobs = jobs;
        _clock = clock ?? TimeProvider.System;
        _logger = logger;
        Settings = settings;
        var names = TaskList.Of(settings.IndexTasks);
        _embeds = names.Contains(embed.Name);
        _faceEmbed = faceEmbed is not null && names.Contains(faceEmbed.Name) ? faceEmbed : null;
        _people = _faceEmbed is null ? null : people;
        var others = TaskList.Of(names.Where(n => n != embed.Name && n != FaceEmbedTaskName).Append("info"));
        // EXIF, size and the perceptual hash come from the model-free tasks, on the same decode as the rest.
        _tasks = [.. _embeds ? [embed] : Array.Empty<IImageTask>(), .. _faceEmbed is null ? Array.Empty<IImageTask>() : [_faceEmbed],
            .. analyzer.Resolve(others), new PerceptualHashTask(), new PixelHashTask()];
    }

    /// <summary>The index task that finds faces with their identity descriptors (what people are clustered from).</summary>
    public const string FaceEmbedTaskName = "face-embed";

    public LibrarySettings Settings { get; }
    public ILibraryStore Store => _store;
    public IVectorIndex Vectors => _vectors;

    /// <summary>The task names indexing runs, in order (for the job result and the docs).</summary>
    public IReadOnlyList<string> TaskNames => _tasks.Select(t => t.Name).ToList();

    /// <summary>
    /// Adds images: stores the bytes once under their content id, records each in the library and queues one indexing
    /// job per new image. An image already in the library is answered as it stands (not indexed again), unless its
    /// indexing failed or its job was never queued (a crash between the two), which queues it again. A repeated
    /// <paramref name="idempotencyKey"/> answers the images of the first request.
    /// </summary>
    public async Task<IReadOnlyList<IngestedImage>> IngestAsync(
        IReadOnlyList<IngestItem> items, IngestRequest request, string? idempotencyKey, CancellationToken cancellationToken)
    {
        var jobs = _jobs ?? throw new InvalidOperationException("This library has no job service; the CLI indexes in-process with AddAndIndexAsync.");
        if (idempotencyKey is not null && await _store.FindRequestAsync(request.Owner, idempotencyKey, cancellationToken) is { } seen)
        {
            var found = (await _store.GetManyAsync(seen, cancellationToken)).ToDictionary(i => i.Id);
            return seen.Where(found.ContainsKey).Select(id => new IngestedImage(found[id], Created: false)).ToList();
        }
        var results = new List<IngestedImage>(items.Count);
        foreach (var item in items)
        {
            var (image, created) = await AddAsync(item, request, cancellationToken);
            if (!created) image = await SettledAsync(image, cancellationToken);
            if (created || image.State == IndexState.Failed || image is { State: IndexState.Queued, JobId: null })
            {
                // Keyed by the image and when it was added: a repeat finds the same job, a re-added image gets a new one.
                var submission = new JobSubmission(
                    [new JobInputImage(item.Bytes, item.FileName)], [LibrarySettings.IndexJobTask],
                    new Dictionary<string, string> { ["image_id"] = image.Id },
                    IdempotencyKey: $"library:{image.Id}:{image.AddedAt.ToUnixTimeMilliseconds()}:{(image.State == IndexState.Failed ? _clock.GetUtcNow().ToUnixTimeMilliseconds() : 0)}",
                    Owner: request.Owner);
                // Queued before the job exists: a worker may index the image before SubmitAsync returns, and marking it
                // queued after that would leave an indexed image "queued" for good. Queued without a job (a crash right
                // here) is resubmitted by the next add of the image.
                await _store.MarkQueuedAsync(image.Id, cancellationToken);
                var job = (await jobs.SubmitAsync(submission, cancellationToken)).Jobs[0];
                await _store.AssignJobAsync(image.Id, job.Id, cancellationToken);
                image = image with { State = IndexState.Queued, Error = null, JobId = job.Id };
            }
            results.Add(new IngestedImage(image, created));
        }
        if (idempotencyKey is not null)
            await _store.SaveRequestAsync(request.Owner, idempotencyKey, results.Select(r => r.Image.Id).ToList(), cancellationToken);
        return results;
    }

    /// <summary>The CLI's ingest: add and index in this process, skipping an image that is already indexed.</summary>
    public async Task<(LibraryImage Image, bool Skipped)> AddAndIndexAsync(IngestItem item, IngestRequest request, CancellationToken cancellationToken)
    {
        var (image, _) = await AddAsync(item, request, cancellationToken);
        if (image.State == IndexState.Indexed) return (image, true);
        try
        {
            return ((await IndexAsync(image.Id, item.Bytes.ToArray(), cancellationToken)).Image, false);
        }
        catch (Exception e) when (IsPermanent(e))
        {
            await _store.MarkFailedAsync(image.Id, e.Message, cancellationToken);
            throw;
        }
    }

    private async Task<(LibraryImage Image, bool Created)> AddAsync(IngestItem item, IngestRequest request, CancellationToken cancellationToken)
    {
        if (item.Bytes.Length == 0) throw new EmptyImageException();
        var format = ImageFormatSniffer.Sniff(item.Bytes.Span) ?? throw new UnsupportedImageFormatException(
            $"{(item.FileName is null ? "The data" : $"'{item.FileName}'")} is not an image in a supported format (JPEG, PNG, GIF, WebP, TIFF, BMP, HEIF/AVIF, SVG); the format is detected from the content.");
        var id = await _blobs.PutAsync(item.Bytes, cancellationToken);
        var (image, created) = await _store.AddAsync(new LibraryImage
        {
            Id = id,
            Owner = request.Owner,
            Collection = request.Collection,
            Tags = request.Tags,
            ExternalId = request.ExternalId,
            FileName = item.FileName,
            MediaType = format.MediaType(),
            Bytes = item.Bytes.Length,
            AddedAt = _clock.GetUtcNow(),
        }, cancellationToken);
        if (!created && request.Owner is not null && image.Owner != request.Owner)
            throw new LibraryImageOwnedException(id);
        // Again, now that the row exists: a delete of the same image may have removed the bytes in between (see DeleteBytesAsync).
        await _blobs.PutAsync(item.Bytes, cancellationToken);
        return (image, created);
    }

    /// <summary>
    /// Indexes one image (the job's work): the tasks on one decode, the vector into the active space, the fields into
    /// the store. Running it twice writes the same rows (upserts), so a job re-run after a worker died adds nothing.
    /// An image deleted meanwhile is left deleted: its vector is removed again after the write.
    /// </summary>
    public async Task<IndexOutcome> IndexAsync(string id, byte[] bytes, CancellationToken cancellationToken)
    {
        var image = await _store.GetAsync(id, cancellationToken);
        if (image is null) return new IndexOutcome(new LibraryImage { Id = id, MediaType = "", State = IndexState.Failed, Error = "deleted" }, []);
        var analysis = await _analyzer.AnalyzeAsync(bytes, _tasks, ParameterReader.None, cancellationToken);
        var fields = new IndexedFields { Width = analysis.Width, Height = analysis.Height, Format = analysis.Format };
        // prepare: loading the models (once per process, then a cache hit); decode: the one decode all tasks share.
        var timings = new Dictionary<string, double> { ["prepare"] = Math.Round(analysis.PrepareMs, 2), ["decode"] = Math.Round(analysis.DecodeMs, 2) };
        var models = new List<ModelVersion>();
        float[]? vector = null;
        FaceEmbeddingResult? faces = null;
        var credits = new FieldModels();
        foreach (var outcome in analysis.Tasks)
        {
            timings[outcome.Name] = Math.Round(outcome.Ms, 2);
            ModelVersion? made = null;
            if (outcome.Model is { } model && _catalog.Contains(model))
            {
                made = new ModelVersion(model, _catalog.Get(model).Version);
                if (!models.Exists(m => m.Name == model)) models.Add(made);
            }
            credits = outcome.Result switch
            {
                CaptionBatch => credits with { Caption = made },
                OcrResult => credits with { OcrText = made },
                DetectionResult => credits with { Labels = made },
                FaceDetectionResult or FaceEmbeddingResult => credits with { FaceCount = made },
                ModerationResult => credits with { Safety = made },
                _ => credits,
            };
            fields = outcome.Result switch
            {
                ImageEmbedding e => Embedded(e),
                CaptionBatch c => fields with { Caption = c.Captions.Count > 0 ? c.Captions[0].Text : null },
                OcrResult o => fields with { OcrText = o.Text },
                DetectionResult d => fields with { Labels = d.Objects.Select(o => o.Label).Distinct().ToList() },
                FaceDetectionResult f => fields with { FaceCount = f.Faces.Count },
                FaceEmbeddingResult f => Faces(f),
                ModerationResult m => fields with { Safety = new ContentSafety(m.Safe, m.Flagged) },
                ImageInfo i => fields with { CapturedAt = CaptureTime(i.Exif?.CaptureTime) },
                string hash when outcome.Name == "phash" => fields with { PerceptualHash = hash },
                string hash when outcome.Name == PixelHashTask.TaskName => fields with { PixelHash = hash },
                _ => fields,
            };
        }
        fields = fields with { TaskMs = timings, Models = credits };

        IndexedFields Embedded(ImageEmbedding e)
        {
            vector = e.Vector;
            return fields;
        }

        IndexedFields Faces(FaceEmbeddingResult f)
        {
            faces = f;
            return fields with { FaceCount = f.Faces.Count };
        }

        if (vector is not null)
        {
            var space = await SpaceForAsync(_catalog.Get(analysis.Tasks.First(t => t.Result is ImageEmbedding).Model!), vector.Length, cancellationToken);
            fields = fields with { Space = space.Key };
            await _vectors.UpsertAsync(space, id, vector, Attributes(image, fields), cancellationToken);
        }
        var indexed = await _store.MarkIndexedAsync(id, fields, _clock.GetUtcNow(), cancellationToken);
        if (!indexed || await _store.GetAsync(id, cancellationToken) is null)
        {
            // Deleted while it was being indexed: whatever this run wrote must not make it searchable.
            await _vectors.DeleteAsync(id, cancellationToken);
            return new IndexOutcome(image with { State = IndexState.Failed, Error = "deleted" }, models);
        }
        if (faces is not null && _people is not null)
            await _people.AddFacesAsync(id, image.Owner, Found(faces), cancellationToken);
        return new IndexOutcome(image with { State = IndexState.Indexed, Fields = fields, IndexedAt = _clock.GetUtcNow() }, models);
    }

    private static List<FoundFace> Found(FaceEmbeddingResult faces) =>
        faces.Faces.Select(f => new FoundFace(f.Box, f.Confidence, f.Description.Descriptor)).ToList();

    public async Task MarkFailedAsync(string id, string error, CancellationToken cancellationToken) =>
        await _store.MarkFailedAsync(id, error, cancellationToken);

    /// <summary>Input or configuration that fails the same way on every try.</summary>
    public static bool IsPermanent(Exception e) => JobWorker.IsPermanent(e) || e is EmbeddingSpaceMismatchException;

    private static VectorAttributes Attributes(LibraryImage image, IndexedFields fields) =>
        new(image.Owner ?? "", image.Collection, fields.CapturedAt, fields.FaceCount ?? 0, fields.Labels.Select(l => l.ToLowerInvariant()).ToList());

    private static DateTimeOffset? CaptureTime(string? text) =>
        text is not null && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time : null;

    /// <summary>
    /// The space a new vector of <paramref name="model"/> goes into: the active one, or the one a reindex is building.
    /// The first vector of an empty library makes its model's space the active one. Any other model is refused.
    /// </summary>
    private async Task<EmbeddingSpace> SpaceForAsync(ModelManifest model, int dimensions, CancellationToken cancellationToken)
    {
        var space = new EmbeddingSpace(model.Name, model.Version, dimensions);
        var spaces = await GetSpacesAsync(cancellationToken);
        if (spaces.Active is null)
        {
            await SaveSpacesAsync(spaces with { Active = space }, cancellationToken);
            return space;
        }
        if (spaces.Active == space || spaces.Pending == space) return space;
        throw new EmbeddingSpaceMismatchException(
            $"The library's vectors are in {spaces.Active.Key}, and this server embeds with {space.Key} (Embeddings:Model); one index never mixes " +
            $"two models. Run `iris library reindex` with the new model configured to re-embed the library beside the old vectors " +
            $"(search keeps answering) and switch when it is done, or set Embeddings:Model back to {spaces.Active.Model}.");
    }

    public async Task<LibrarySpaces> GetSpacesAsync(CancellationToken cancellationToken) =>
        await _store.GetSettingAsync(SpacesKey, cancellationToken) is { } text
            ? JsonSerializer.Deserialize<LibrarySpaces>(text, Json) ?? new LibrarySpaces(null, null)
            : new LibrarySpaces(null, null);

    // One row holds both spaces, so switching the searched space is one atomic write.
    private Task SaveSpacesAsync(LibrarySpaces spaces, CancellationToken cancellationToken) =>
        _store.SetSettingAsync(SpacesKey, JsonSerializer.Serialize(spaces, Json), cancellationToken);

    /// <summary>
    /// The image as <paramref name="owner"/> sees it (another owner's is not found), its state settled as
    /// <see cref="SettledAsync"/> says.
    /// </summary>
    public async Task<LibraryImage> GetAsync(string id, string? owner, CancellationToken cancellationToken)
    {
        var image = await _store.GetAsync(id, cancellationToken);
        if (image is null || (owner is not null && image.Owner != owner)) throw new LibraryImageNotFoundException(id);
        return await SettledAsync(image, cancellationToken);
    }

    /// <summary>Whether <paramref name="owner"/>'s library holds the image.</summary>
    public async Task<bool> OwnsAsync(string id, string owner, CancellationToken cancellationToken) =>
        await _store.GetAsync(id, cancellationToken) is { } image && image.Owner == owner;

    /// <summary>
    /// A queued image whose indexing job has ended without indexing it is failed. Only the job processor marks an image
    /// failed, so an image whose job was retried out after its workers died, canceled, or since deleted past
    /// Jobs:Retention would otherwise stay queued for good: it is recorded as failed here, when it is next read or
    /// added, and the add indexes it again.
    /// </summary>
    private async Task<LibraryImage> SettledAsync(LibraryImage image, CancellationToken cancellationToken)
    {
        if (image is not { State: IndexState.Queued, JobId: { } jobId } || _jobs is null) return image;
        string error;
        try
        {
            var job = await _jobs.GetAsync(jobId, cancellationToken);
            if (job.Status is not (JobStatus.Failed or JobStatus.Canceled)) return image;
            error = job.Error ?? job.Status.ToString().ToLowerInvariant();
        }
        catch (JobNotFoundException)
        {
            // The job row is assigned only once the job exists, and retention deletes only finished jobs.
            error = "Its indexing job finished without indexing it and has since been deleted (Jobs:Retention); add the image again to index it.";
        }
        await _store.MarkFailedAsync(image.Id, error, cancellationToken);
        return image with { State = IndexState.Failed, Error = error };
    }

    public async Task<LibraryPage> ListAsync(LibraryQuery query, CancellationToken cancellationToken)
    {
        if (query.Collection is not null && !await _store.CollectionExistsAsync(query.Owner, query.Collection, cancellationToken))
            throw new UnknownCollectionException(query.Collection);
        return await _store.ListAsync(query, cancellationToken);
    }

    /// <summary>
    /// The indexing progress of a collection (null: the whole library) as <paramref name="owner"/> sees it, from one
    /// grouped count, and the library's embedding spaces (a pending one is a reindex in progress). A collection that holds
    /// no image yet answers zeros: it is a name about to be filled (an upload, <c>iris library add</c>), not an error.
    /// </summary>
    public async Task<LibraryStatus> StatusAsync(string? owner, string? collection, CancellationToken cancellationToken)
    {
        var counts = await _store.CountByStateAsync(owner, collection, cancellationToken);
        return new LibraryStatus(collection, counts[IndexState.Queued], counts[IndexState.Indexed], counts[IndexState.Failed], await GetSpacesAsync(cancellationToken));
    }

    /// <summary>Whether the active space holds the image's vector (what the index holds, for GET /v1/images/{id}).</summary>
    public async Task<bool> HasVectorAsync(string id, CancellationToken cancellationToken) =>
        (await GetSpacesAsync(cancellationToken)).Active is { } space && await _vectors.GetAsync(space, id, cancellationToken) is not null;

    /// <summary>Removes the image from the vector index first (so no search finds it from then on), then its row and its bytes.</summary>
    public async Task DeleteAsync(string id, string? owner, CancellationToken cancellationToken)
    {
        var image = await GetAsync(id, owner, cancellationToken);
        await _vectors.DeleteAsync(id, cancellationToken);
        await _store.DeleteAsync(id, cancellationToken);
        await DeleteBytesAsync(id, cancellationToken);
        _logger?.LogInformation("Library image {Id} deleted", image.Id);
    }

    /// <summary>
    /// Deletes the image's bytes unless something else needs them. Ids are content hashes: an upload or a transform output
    /// of the same bytes (kept, <see cref="IBlobStore.PutKeptAsync"/>) shares the blob, and so does an add of the same image
    /// racing this delete. The bytes are read first, so that a keep or an add that lands after the check gets them back;
    /// the add also stores them again once its row exists, which covers it landing after the second check.
    /// </summary>
    private async Task DeleteBytesAsync(string id, CancellationToken cancellationToken)
    {
        if (await _blobs.IsKeptAsync(id, owner: null, cancellationToken)) return;
        var bytes = await _blobs.GetAsync(id, cancellationToken);
        await _blobs.DeleteAsync(id, cancellationToken);
        if (bytes is not null && (await _blobs.IsKeptAsync(id, owner: null, cancellationToken) || await _store.GetAsync(id, cancellationToken) is not null))
            await _blobs.PutAsync(bytes, cancellationToken);
    }

    /// <summary>Dismisses a false near-duplicate match: <c>dedupe=true</c> never collapses these two images again.</summary>
    public async Task MarkDistinctAsync(string id, string other, string? owner, CancellationToken cancellationToken)
    {
        await GetAsync(id, owner, cancellationToken);
        await GetAsync(other, owner, cancellationToken);
        if (id == other) throw new InvalidParameterException("An image is always a duplicate of itself; name another image.", "image_id");
        await _store.MarkDistinctAsync(id, other, cancellationToken);
    }

    /// <summary>The stored bytes of a library image as <paramref name="owner"/> may see it.</summary>
    public async Task<(LibraryImage Image, byte[] Bytes)> ReadAsync(string id, string? owner, CancellationToken cancellationToken)
    {
        if (!BlobIds.IsValid(id)) throw new LibraryImageNotFoundException(id);
        var image = await _store.GetAsync(id, cancellationToken);
        if (image is null || (owner is not null && image.Owner != owner)) throw new LibraryImageNotFoundException(id);
        var bytes = await _blobs.GetAsync(id, cancellationToken) ?? throw new LibraryImageNotFoundException(id);
        return (image, bytes);
    }

    /// <summary>
    /// Re-embeds every indexed image with the configured embedding model into a new space beside the active one, then
    /// makes it the active space in one write and drops the old one. Search answers from the old space until then.
    /// Resumable: an image whose vector the new space already holds is skipped, so a killed run continues where it was.
    /// </summary>
    public async Task<ReindexResult> ReindexAsync(IProgress<(long Done, long Total)>? progress, CancellationToken cancellationToken)
    {
        var faces = await ReindexFacesAsync(cancellationToken);
        return await ReembedAsync(progress, cancellationToken) with { Faces = faces };
    }

    /// <summary>
    /// Gives every indexed image whose faces were not found by the configured face-embed model (indexed before people
    /// existed, or by another model) its faces with descriptors, then clusters once. Resumable like the re-embedding:
    /// an image already credited to the model is skipped. Answers how many images it embedded.
    /// </summary>
    private async Task<long> ReindexFacesAsync(CancellationToken cancellationToken)
    {
        if (_faceEmbed is null || _people is null) return 0;
        var parameters = _faceEmbed.Read(ParameterReader.None);
        long embedded = 0;
        var owners = new HashSet<string?>();
        string? after = null;
        while (await _store.ListIndexedIdsAsync(after, 64, cancellationToken) is { Count: > 0 } ids)
        {
            foreach (var id in ids)
            {
                after = id;
                var image = await _store.GetAsync(id, cancellationToken);
                if (image?.Fields is not { } fields || fields.Models?.FaceCount?.Name == parameters.Model) continue;
                if (await _blobs.GetAsync(id, cancellationToken) is not { } bytes) continue;
                var run = await _analyzer.RunAsync(_faceEmbed, parameters, bytes, cancellationToken);
                var credit = _catalog.Contains(run.Result.Model) ? new ModelVersion(run.Result.Model, _catalog.Get(run.Result.Model).Version) : null;
                await _people.AddFacesAsync(id, image.Owner, Found(run.Result), cancellationToken, cluster: false);
                await _store.MarkIndexedAsync(id, fields with
                {
                    FaceCount = run.Result.Faces.Count, Models = (fields.Models ?? new FieldModels()) with { FaceCount = credit },
                }, image.IndexedAt ?? _clock.GetUtcNow(), cancellationToken);
                owners.Add(image.Owner);
                embedded++;
            }
        }
        foreach (var owner in owners) await _people.ReclusterAsync(owner, cancellationToken);
        return embedded;
    }

    /// <summary>
    /// Gives every indexed image a vector in the configured model's space, then makes that space the searched one.
    /// With the library already in it, the walk only repairs: an image that a server still on the old model indexed
    /// behind the cursor of an earlier reindex has no vector there, and gets it now.
    /// </summary>
    private async Task<ReindexResult> ReembedAsync(IProgress<(long Done, long Total)>? progress, CancellationToken cancellationToken)
    {
        var parameters = _embed.Read(ParameterReader.None);
        var manifest = _catalog.Get(parameters.Model);
        var spaces = await GetSpacesAsync(cancellationToken);
        bool Configured(EmbeddingSpace? space) => space is not null && space.Model == manifest.Name && space.Version == manifest.Version;
        var target = Configured(spaces.Active) ? spaces.Active : Configured(spaces.Pending) ? spaces.Pending : null;
        var total = await _store.CountAsync(null, IndexState.Indexed, cancellationToken);
        long done = 0;

        // One pass over the indexed images, embedding those the target space lacks; answers how many it embedded. Only the
        // first pass counts the images and reports progress.
        async Task<long> WalkAsync(bool first)
        {
            long embeddedHere = 0;
            string? after = null;
            while (await _store.ListIndexedIdsAsync(after, 64, cancellationToken) is { Count: > 0 } ids)
            {
                foreach (var id in ids)
                {
                    after = id;
                    if (first) done++;
                    if (target is null || await _vectors.GetAsync(target, id, cancellationToken) is null)
                    {
                        var image = await _store.GetAsync(id, cancellationToken);
                        var bytes = await _blobs.GetAsync(id, cancellationToken);
                        if (image is null || bytes is null) continue;
                        var run = await _analyzer.RunAsync(_embed, parameters, bytes, cancellationToken);
                        if (target is null)
                        {
                            target = new EmbeddingSpace(manifest.Name, manifest.Version, run.Result.Vector.Length);
                            spaces = await GetSpacesAsync(cancellationToken);
                            await SaveSpacesAsync(spaces with { Pending = target }, cancellationToken);
                        }
                        await _vectors.UpsertAsync(target, id, run.Result.Vector, Attributes(image, image.Fields ?? new IndexedFields()), cancellationToken);
                        embeddedHere++;
                    }
                    if (first) progress?.Report((done, total));
                }
            }
            return embeddedHere;
        }

        // Servers still on the old model keep indexing into the old space while this runs, and an image whose id sorts
        // before the cursor is behind it: the walk repeats (without progress) until one embeds nothing, at most three
        // more times, so the switch leaves as little as possible behind; a later reindex repairs the rest.
        var embedded = await WalkAsync(first: true);
        for (var again = 0; again < 3; again++)
        {
            var late = await WalkAsync(first: false);
            embedded += late;
            if (late == 0) break;
        }
        spaces = await GetSpacesAsync(cancellationToken);
        if (target is not null && spaces.Active == target) return new ReindexResult(target, target, done, embedded);
        if (target is null) // an empty library: the configured model's space becomes active with its first vector
        {
            await SaveSpacesAsync(new LibrarySpaces(null, null), cancellationToken);
            return new ReindexResult(spaces.Active, null, 0, 0);
        }
        await SaveSpacesAsync(new LibrarySpaces(target, null), cancellationToken);
        if (spaces.Active is { } old && old != target) await _vectors.DropSpaceAsync(old, cancellationToken);
        return new ReindexResult(spaces.Active, target, done, embedded);
    }
}

/// <summary>How many images of a collection (null: all) wait for indexing, are searchable, or failed; and the embedding spaces.</summary>
public sealed record LibraryStatus(string? Collection, long Queued, long Indexed, long Failed, LibrarySpaces Spaces)
{
    public long Total => Queued + Indexed + Failed;
}

/// <summary>What a reindex did: the space searched before and after, images walked and images embedded by this run.</summary>
/// <param name="Faces">Images whose faces this run embedded for people (indexed before face-embed was in Library:IndexTasks).</param>
public sealed record ReindexResult(EmbeddingSpace? From, EmbeddingSpace? To, long Images, long Embedded, long Faces = 0);
