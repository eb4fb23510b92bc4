using System.Globalization;
using System.Numerics;
using Iris.Core.Tasks;

namespace Iris.Core.Library;

/// <summary>Exact: the same decoded pixels (<see cref="PixelHash"/>). Near: perceptual hashes within Library:NearDuplicateDistance bits.</summary>
public enum DuplicateKind { Exact, Near }

/// <summary>One image of a duplicate group; <see cref="Distance"/> is its dHash distance to the group's first image (0 for exact).</summary>
public sealed record DuplicateMember(string ImageId, int Distance);

public sealed record DuplicateGroup(DuplicateKind Kind, IReadOnlyList<DuplicateMember> Images);

public sealed record DuplicatePage(IReadOnlyList<DuplicateGroup> Groups, string? NextCursor);

/// <summary>The duplicates of one image: those with its pixels, and its near-duplicates (not dismissed), nearest first.</summary>
public sealed record ImageDuplicates(IReadOnlyList<string> Exact, IReadOnlyList<DuplicateMember> Near);

/// <summary>
/// Finds duplicates among an owner's indexed images. Exact duplicates share a pixel hash (same bytes are already one
/// id). Near-duplicates are pairs whose dHashes differ in at most d = Library:NearDuplicateDistance bits, that are not
/// exact duplicates and that nobody dismissed (POST /v1/images/{id}/distinct). Pairs are found without comparing all
/// n² of them: the 64 bits are cut into d + 1 bands, and two hashes within d bits agree exactly on at least one band
/// (pigeonhole), so only images sharing a band value are compared — with d = 3, four 16-bit bands.
/// A group is a connected component of the remaining pairs.
/// </summary>
public static class Duplicates
{
    private sealed record Hashed(string Id, ulong Perceptual, string? Pixels);

    public static async Task<DuplicatePage> ListAsync(
        ImageLibrary library, string? owner, string? collection, DuplicateKind kind, int limit, string? cursor, CancellationToken cancellationToken)
    {
        if (limit is < 1 or > 1000) throw new InvalidParameterException($"limit must be an integer between 1 and 1000; got {limit}.", "limit");
        var offset = 0;
        if (cursor is not null && !int.TryParse(cursor, NumberStyles.None, CultureInfo.InvariantCulture, out offset))
            throw new InvalidParameterException($"cursor '{cursor}' is not one this listing gave; pass next_cursor from the previous page.", "cursor");
        var images = await HashesAsync(library, owner, collection, cancellationToken);
        List<List<DuplicateMember>> groups;
        if (kind == DuplicateKind.Exact)
            groups = images.Where(i => i.Pixels is not null).GroupBy(i => i.Pixels).Where(g => g.Count() > 1)
                .Select(g => g.Select(i => i.Id).Order(StringComparer.Ordinal).Select(id => new DuplicateMember(id, 0)).ToList()).ToList();
        else
        {
            var byId = images.ToDictionary(i => i.Id);
            var pairs = await UndismissedAsync(library, NearPairs(images, library.Settings.NearDuplicateDistance), cancellationToken);
            groups = Components(pairs).Select(ids =>
            {
                var first = byId[ids[0]].Perceptual;
                return ids.Select(id => new DuplicateMember(id, BitOperations.PopCount(first ^ byId[id].Perceptual))).ToList();
            }).ToList();
        }
        // Largest groups first (the most to clean up), then by their first id, so pages are stable.
        var ordered = groups.OrderByDescending(g => g.Count).ThenBy(g => g[0].ImageId, StringComparer.Ordinal).ToList();
        var page = ordered.Skip(offset).Take(limit).Select(g => new DuplicateGroup(kind, g)).ToList();
        // In long: a forged cursor near int.MaxValue must end the listing, not overflow into a negative next cursor.
        return new DuplicatePage(page, ordered.Count > (long)offset + limit ? (offset + limit).ToString(CultureInfo.InvariantCulture) : null);
    }

    public static async Task<ImageDuplicates> OfAsync(ImageLibrary library, LibraryImage image, CancellationToken cancellationToken)
    {
        if (image.Fields?.PerceptualHash is not { } hex) return new ImageDuplicates([], []);
        var hash = Convert.ToUInt64(hex, 16);
        var pixels = image.Fields.PixelHash;
        var others = (await HashesAsync(library, image.Owner, null, cancellationToken)).Where(i => i.Id != image.Id).ToList();
        var exact = others.Where(i => pixels is not null && i.Pixels == pixels).Select(i => i.Id).Order(StringComparer.Ordinal).ToList();
        var near = others
            .Where(i => (pixels is null || i.Pixels != pixels) && BitOperations.PopCount(hash ^ i.Perceptual) <= library.Settings.NearDuplicateDistance)
            .Select(i => new DuplicateMember(i.Id, BitOperations.PopCount(hash ^ i.Perceptual))).ToList();
        var dismissed = await library.Store.DistinctPairsAsync([image.Id, .. near.Select(n => n.ImageId)], cancellationToken);
        return new ImageDuplicates(exact, near.Where(n => !dismissed.Contains(SqlLibraryStore.Pair(image.Id, n.ImageId)))
            .OrderBy(n => n.Distance).ThenBy(n => n.ImageId, StringComparer.Ordinal).ToList());
    }

    /// <summary>Every indexed image of the owner (and collection) with a perceptual hash, read a page at a time.</summary>
    private static async Task<List<Hashed>> HashesAsync(ImageLibrary library, string? owner, string? collection, CancellationToken cancellationToken)
    {
        var hashed = new List<Hashed>();
        string? cursor = null;
        do
        {
            var page = await library.ListAsync(new LibraryQuery(owner, collection, 1000, cursor, IndexState.Indexed), cancellationToken);
            foreach (var image in page.Images)
                if (image.Fields?.PerceptualHash is { } hex)
                    hashed.Add(new Hashed(image.Id, Convert.ToUInt64(hex, 16), image.Fields.PixelHash));
            cursor = page.NextCursor;
        } while (cursor is not null);
        return hashed;
    }

    /// <summary>Pairs within <paramref name="distance"/> bits that are not exact duplicates, found through d + 1 bands (see the class).</summary>
    public static HashSet<(string, string)> NearPairs(IReadOnlyList<(string Id, ulong Hash)> images, int distance, Func<int, int, bool>? exact = null)
    {
        var pairs = new HashSet<(string, string)>();
        var bands = Math.Min(64, distance + 1);
        for (var band = 0; band < bands; band++)
        {
            // Band b covers bits [64·b/bands, 64·(b+1)/bands): widths differ by at most one.
            var low = 64 * band / bands;
            var width = 64 * (band + 1) / bands - low;
            var mask = width == 64 ? ulong.MaxValue : ((1UL << width) - 1) << low;
            var buckets = new Dictionary<ulong, List<int>>();
            for (var i = 0; i < images.Count; i++)
            {
                var key = images[i].Hash & mask;
                if (!buckets.TryGetValue(key, out var bucket)) buckets[key] = bucket = [];
                bucket.Add(i);
            }
            foreach (var bucket in buckets.Values)
                for (var a = 0; a < bucket.Count; a++)
                    for (var b = a + 1; b < bucket.Count; b++)
                    {
                        var (i, j) = (bucket[a], bucket[b]);
                        if (BitOperations.PopCount(images[i].Hash ^ images[j].Hash) <= distance && exact?.Invoke(i, j) != true)
                            pairs.Add(SqlLibraryStore.Pair(images[i].Id, images[j].Id));
                    }
        }
        return pairs;
    }

    private static HashSet<(string, string)> NearPairs(List<Hashed> images, int distance) =>
        NearPairs(images.Select(i => (i.Id, i.Perceptual)).ToList(), distance,
            (i, j) => images[i].Pixels is not null && images[i].Pixels == images[j].Pixels);

    /// <summary>The pairs nobody dismissed; the dismissals are read per group of connected images, so each query stays small.</summary>
    private static async Task<HashSet<(string, string)>> UndismissedAsync(ImageLibrary library, HashSet<(string, string)> pairs, CancellationToken cancellationToken)
    {
        var kept = new HashSet<(string, string)>(pairs);
        foreach (var group in Components(pairs))
            kept.ExceptWith(await library.Store.DistinctPairsAsync(group, cancellationToken));
        return kept;
    }

    /// <summary>The connected components of the pairs (union–find), each as its ids in ordinal order.</summary>
    private static List<List<string>> Components(HashSet<(string, string)> pairs)
    {
        var parent = new Dictionary<string, string>();
        string Find(string x)
        {
            while (parent.TryGetValue(x, out var p) && p != x)
            {
                parent[x] = parent.GetValueOrDefault(p, p);
                x = parent[x];
            }
            return x;
        }
        foreach (var (a, b) in pairs)
        {
            parent.TryAdd(a, a);
            parent.TryAdd(b, b);
            var (ra, rb) = (Find(a), Find(b));
            if (ra != rb) parent[ra] = rb;
        }
        return parent.Keys.GroupBy(Find).Select(g => g.Order(StringComparer.Ordinal).ToList()).ToList();
    }
}
