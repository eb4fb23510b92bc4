using System.Globalization;
using Iris.Core.Library.Vectors;
using Iris.Core.Models;
using Iris.Core.Storage;
using Iris.Core.Tasks;
using Iris.Core.Tasks.Embeddings;

namespace Iris.Core.Library;

public enum SearchMode { Hybrid, Semantic, Text }

public enum SearchSort { Relevance, Date }

/// <summary>
/// One search. Exactly one of <see cref="Text"/>, <see cref="Image"/> (query by example) and <see cref="ImageId"/>
/// (more like this) is the query. <see cref="MinScore"/> cuts every hit by its calibrated score (0..1, in every mode);
/// <see cref="Sort"/> orders what is left.
/// </summary>
public sealed record SearchQuery
{
    public string? Text { get; init; }
    public byte[]? Image { get; init; }
    public string? ImageId { get; init; }
    public int K { get; init; } = 20;
    public VectorFilter Filter { get; init; } = VectorFilter.None;
    public float? MinScore { get; init; }
    public SearchSort Sort { get; init; } = SearchSort.Relevance;
    public SearchMode Mode { get; init; } = SearchMode.Hybrid;
    public bool Dedupe { get; init; }

    /// <summary>Only images the <c>moderate</c> task judged safe at indexing (unjudged images are left out too).</summary>
    public bool SafeOnly { get; init; }
    public string? Cursor { get; init; }

    /// <summary>Only images this person (GET /v1/people) is in; combines with the query and every other filter.</summary>
    public string? Person { get; init; }
}

/// <summary>
/// One hit. <see cref="Score"/> is calibrated, 0..1 in every mode: for a semantic candidate the normal CDF of its cosine
/// under the space's null distribution (<see cref="ScoreCalibration"/>), for a text match the share of query words the
/// image matched, and for a hybrid hit the larger of the two. Hybrid hits are still ordered by reciprocal rank fusion.
/// <see cref="Similarity"/> is the raw CLIP cosine similarity when the image was a semantic candidate.
/// </summary>
public sealed record SearchHit(LibraryImage Image, float Score, float? Similarity, IReadOnlyList<string> Matched);

public sealed record SearchPage(IReadOnlyList<SearchHit> Hits, string? NextCursor, EmbeddingSpace? Space, SearchMode Mode);

/// <summary>
/// Search over the library. Semantic: the query's CLIP embedding (text, an image, or a library image's stored vector)
/// against the active space, filters inside the scan. Text: full-text matches over caption, OCR text, labels and tags.
/// Hybrid (the default for text): reciprocal rank fusion, score(d) = Σ 1 / (60 + rank_i(d)) over both rankings
/// (Cormack et al., 2009), which needs no score normalisation between the two. The embedding model is the active space's,
/// and stays loaded in the model runtime between searches.
/// </summary>
public sealed class LibrarySearch(ImageLibrary library, ImageAnalyzer analyzer, EmbedTask embed, ModelCatalog catalog, People.LibraryPeople? people = null)
{
    private readonly ScoreCalibration _calibration = new(library, embed);

    /// <summary>The constant of reciprocal rank fusion; 60 is the value of the original paper and of most engines.</summary>
    public const int RrfK = 60;

    /// <summary>The deepest a cursor may page (offset + k), so a request cannot ask the index for millions of candidates.</summary>
    public const int MaxDepth = 10_000;

    /// <summary>
    /// The longest text query, in characters. CLIP reads only its first 77 tokens, but the full-text side matches every
    /// word against every candidate, so a 27 MB JSON body would hold the request for hours.
    /// </summary>
    public const int MaxTextLength = 2000;

    public async Task<SearchPage> SearchAsync(SearchQuery query, CancellationToken cancellationToken)
    {
        var settings = library.Settings;
        var inputs = (query.Text is not null ? 1 : 0) + (query.Image is not null ? 1 : 0) + (query.ImageId is not null ? 1 : 0);
        if (inputs == 0 || query.Text is { } t && string.IsNullOrWhiteSpace(t))
            throw new InvalidParameterException("A search needs a query: text (GET /v1/search?text=red+flower), or an image or image_id (POST /v1/search).", "text");
        if (inputs > 1)
            throw new InvalidParameterException("Send one query: text, an image, or image_id.", "text");
        if (query.Text?.Length > MaxTextLength)
            throw new InvalidParameterException($"text is {query.Text.Length} characters; a search query is at most {MaxTextLength}.", "text");
        if (query.K < 1 || query.K > settings.MaxK)
            throw new InvalidParameterException($"k must be between 1 and {settings.MaxK}; got {query.K}.", "k");
        if (query.MinScore is { } min && (!float.IsFinite(min) || min < 0 || min > 1))
            throw new InvalidParameterException($"min_score is a calibrated score between 0 and 1 (0.5 is chance; see README, Search); got {min}.", "min_score");
        if (query.Text is null && query.Mode == SearchMode.Text)
            throw new InvalidParameterException("mode=text needs a text query; an image query is semantic.", "mode");
        var offset = Offset(query.Cursor);
        var depth = offset + query.K;
        if (depth > MaxDepth)
            throw new InvalidParameterException($"Paging stops at {MaxDepth} hits; narrow the query with filters.", "cursor");
        if (query.Filter.Collection is { } collection && !await library.Store.CollectionExistsAsync(query.Filter.Owner, collection, cancellationToken))
            throw new UnknownCollectionException(collection);

        if (query.Person is { } person)
        {
            if (people is null) throw new People.PersonNotFoundException(person);
            // The person's images become a filter inside the scan, so a page of their photos is full like any filtered page.
            query = query with { Filter = query.Filter with { ImageIds = await people.ImagesOfAsync(person, query.Filter.Owner, cancellationToken) } };
        }

        var mode = query.Text is null ? SearchMode.Semantic : query.Mode;
        var spaces = await library.GetSpacesAsync(cancellationToken);
        // One more than the page needs tells whether there is a next page; near-duplicates collapse after the
        // ranking, so fetch more to still fill the page.
        var candidates = Math.Min(MaxDepth + 1, query.Dedupe ? depth * 3 : depth + 1);
        // The verdict is in the stored fields, not beside the vectors, so safe_only filters the ranked candidates: fetch
        // more so that a page still fills when some are left out.
        if (query.SafeOnly) candidates = Math.Min(MaxDepth + 1, candidates * 2);

        IReadOnlyList<VectorHit> semantic = [];
        NullDistribution? chance = null;
        if (mode != SearchMode.Text && await QueryVectorAsync(query, spaces.Active, cancellationToken) is { } vector)
        {
            semantic = await library.Vectors.SearchAsync(spaces.Active!, vector, candidates + (query.ImageId is null ? 0 : 1), query.Filter, cancellationToken);
            chance = await _calibration.NullAsync(spaces.Active!, imageQuery: query.Text is null, cancellationToken);
        }
        var terms = query.Text is null ? [] : SqlLibraryStore.Terms(query.Text);
        var text = mode == SearchMode.Semantic ? [] : await library.Store.MatchTextAsync(terms, query.Filter, candidates, cancellationToken);

        var similarity = semantic.ToDictionary(h => h.ImageId, h => h.Score);
        var fused = new Dictionary<string, double>();
        if (mode == SearchMode.Semantic)
            foreach (var hit in semantic) fused[hit.ImageId] = hit.Score;
        else
        {
            if (mode == SearchMode.Hybrid)
                for (var i = 0; i < semantic.Count; i++) fused[semantic[i].ImageId] = 1.0 / (RrfK + i + 1);
            foreach (var match in text)
                fused[match.ImageId] = fused.GetValueOrDefault(match.ImageId) + 1.0 / (RrfK + match.Rank + 1);
        }
        var images = (await library.Store.GetManyAsync(fused.Keys.ToList(), cancellationToken))
            .Where(i => i.State == IndexState.Indexed && (query.Filter.Owner is null || i.Owner == query.Filter.Owner))
            .Where(i => !query.SafeOnly || i.Fields?.Safety?.Safe == true)
            .ToDictionary(i => i.Id);

        var ranked = new List<SearchHit>();
        foreach (var (id, value) in fused.OrderByDescending(f => f.Value).ThenBy(f => f.Key, StringComparer.Ordinal))
        {
            // "More like this" leaves out the image it started from.
            if (!images.TryGetValue(id, out var image) || id == query.ImageId) continue;
            var matched = Matched(image, terms);
            if (similarity.ContainsKey(id)) matched.Insert(0, "embedding");
            float? cosine = similarity.TryGetValue(id, out var s) ? s : null;
            var score = Math.Max(cosine is { } c ? Calibrated(c, chance) : 0f, mode != SearchMode.Semantic ? (float)Coverage(image, terms) : 0f);
            if (query.MinScore is { } cut && score < cut) continue;
            ranked.Add(new SearchHit(image, score, cosine, matched));
        }
        if (query.Sort == SearchSort.Date)
            ranked = ranked.OrderByDescending(h => h.Image.Fields?.CapturedAt ?? h.Image.AddedAt).ThenByDescending(h => h.Score).ToList();
        if (query.Dedupe)
            ranked = Dedupe(ranked, settings.NearDuplicateDistance, await library.Store.DistinctPairsAsync(ranked.Select(h => h.Image.Id).ToList(), cancellationToken));
        var page = ranked.Skip(offset).Take(query.K).ToList();
        var next = ranked.Count > offset + query.K ? (offset + query.K).ToString(CultureInfo.InvariantCulture) : null;
        return new SearchPage(page, next, spaces.Active, mode);
    }

    private async Task<float[]?> QueryVectorAsync(SearchQuery query, EmbeddingSpace? space, CancellationToken cancellationToken)
    {
        if (query.ImageId is { } id)
        {
            var image = await library.Store.GetAsync(id, cancellationToken);
            if (!BlobIds.IsValid(id) || image is null || (query.Filter.Owner is not null && image.Owner != query.Filter.Owner))
                throw new LibraryImageNotFoundException(id);
            if (space is null || await library.Vectors.GetAsync(space, id, cancellationToken) is not { } stored)
                throw new InvalidParameterException($"The image '{id}' has no vector in the library's index yet (its state is {image.State.ToString().ToLowerInvariant()}); search with it once it is indexed.", "image_id");
            return stored;
        }
        // Nothing is indexed yet: no space, no semantic hits (a query image is still checked by decoding it below).
        var parameters = new EmbedTask.Parameters(space?.Model ?? embed.Read(ParameterReader.None).Model);
        float[] vector;
        if (query.Image is { } bytes)
            vector = (await analyzer.RunAsync(embed, parameters, bytes, cancellationToken)).Result.Vector;
        else
            vector = (await embed.EmbedTextAsync(parameters, query.Text!, cancellationToken)).Vector;
        if (space is null) return null;
        var manifest = catalog.Get(space.Model);
        if (manifest.Version != space.Version || vector.Length != space.Dimensions)
            throw new EmbeddingSpaceMismatchException(
                $"The library's vectors are in {space.Key}, but the installed {manifest.Name} is version {manifest.Version} with {vector.Length} dimensions; run `iris library reindex`.");
        return vector;
    }

    /// <summary>The cosine under the null; without one (one image indexed, queried by an image) the cosine itself, clamped to 0..1.</summary>
    private static float Calibrated(float cosine, NullDistribution? chance) => chance?.Score(cosine) ?? Math.Clamp(cosine, 0f, 1f);

    private static int Offset(string? cursor)
    {
        if (cursor is null) return 0;
        return int.TryParse(cursor, NumberStyles.None, CultureInfo.InvariantCulture, out var offset) && offset <= MaxDepth
            ? offset
            : throw new InvalidParameterException($"cursor '{cursor}' is not one a search gave; pass next_cursor from the previous page.", "cursor");
    }

    /// <summary>The fields of the image that contain a query word (a word starting with it, so "flower" matches "flowers").</summary>
    private static List<string> Matched(LibraryImage image, IReadOnlyList<string> terms)
    {
        var matched = new List<string>();
        if (terms.Count == 0) return matched;
        var fields = image.Fields;
        void Check(string name, string? text)
        {
            if (text is not null && Contains(text, terms)) matched.Add(name);
        }
        Check("caption", fields?.Caption);
        Check("ocr_text", fields?.OcrText);
        Check("labels", fields is null ? null : string.Join(" ", fields.Labels));
        Check("tags", string.Join(" ", image.Tags));
        return matched;
    }

    private static bool Contains(string text, IReadOnlyList<string> terms)
    {
        var words = SqlLibraryStore.Terms(text);
        return terms.Any(t => words.Any(w => Same(w, t)));
    }

    private static bool Same(string word, string term) =>
        word.StartsWith(term, StringComparison.Ordinal) || (word.Length >= 4 && term.StartsWith(word, StringComparison.Ordinal));

    /// <summary>The share of the query's words that some field of the image contains.</summary>
    private static double Coverage(LibraryImage image, IReadOnlyList<string> terms)
    {
        var fields = image.Fields;
        var words = SqlLibraryStore.Terms(string.Join(" ", fields?.Caption, fields?.OcrText, string.Join(" ", fields?.Labels ?? []), string.Join(" ", image.Tags)));
        return (double)terms.Count(t => words.Any(w => Same(w, t))) / terms.Count;
    }

    /// <summary>
    /// Keeps the best-ranked image of each group whose perceptual hashes differ in at most <paramref name="distance"/>
    /// bits, except pairs a user marked distinct (a false match dismissed).
    /// </summary>
    private static List<SearchHit> Dedupe(List<SearchHit> hits, int distance, IReadOnlySet<(string, string)> distinct)
    {
        var kept = new List<SearchHit>(hits.Count);
        foreach (var hit in hits)
        {
            var hash = hit.Image.Fields?.PerceptualHash;
            if (hash is null || !kept.Exists(k => k.Image.Fields?.PerceptualHash is { } other && PerceptualHash.Distance(hash, other) <= distance
                                                   && !distinct.Contains(SqlLibraryStore.Pair(hit.Image.Id, k.Image.Id))))
                kept.Add(hit);
        }
        return kept;
    }
}
