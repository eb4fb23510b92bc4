using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Iris.Core.Library.Vectors;

/// <summary>
/// One embedding space in memory: the vectors in blocks of <see cref="BlockRows"/> rows, each block one contiguous
/// float array (row-major, so a dot product reads one cache-friendly span, and no array ever needs 2 GiB), beside
/// the filterable attributes of every row as interned ids. Rows are dense: a removed row is replaced by the last
/// one, so a scan never skips holes. Not thread-safe: <see cref="EmbeddedVectorIndex"/> guards it with a
/// reader-writer lock (many scans at once, writes alone).
/// <para>
/// Quantised (<c>Library:Quantize</c>), a row is kept as int8 codes with one scale (max |x| / 127) instead of floats:
/// dimensions + 4 bytes instead of 4 × dimensions. The scan then ranks by the int8 dot product, and the caller
/// re-ranks the candidates it returns with their float vectors (<see cref="EmbeddedVectorIndex"/> reads them from SQLite).
/// </para>
/// </summary>
internal sealed class SpaceVectors(int dimensions, StringIds strings, bool quantized = false)
{
    public const int BlockRows = 16_384;

    private readonly List<float[]> _blocks = [];
    private readonly List<sbyte[]> _codeBlocks = [];
    private float[] _scales = quantized ? new float[BlockRows] : [];
    private readonly Dictionary<string, int> _slotOf = new(StringComparer.Ordinal);
    private string[] _ids = new string[BlockRows];
    private int[] _owners = new int[BlockRows];
    private int[] _collections = new int[BlockRows];
    private long[] _capturedAt = new long[BlockRows];
    private int[] _faces = new int[BlockRows];
    private int[][] _labels = new int[BlockRows][];

    public int Dimensions { get; } = dimensions;
    public bool Quantized { get; } = quantized;
    public int Count { get; private set; }

    public bool Contains(string imageId) => _slotOf.ContainsKey(imageId);

    /// <summary>The stored floats; null when unknown, or when quantised (the floats are then only on disk).</summary>
    public float[]? Get(string imageId) => !Quantized && _slotOf.TryGetValue(imageId, out var slot) ? Row(slot).ToArray() : null;

    public void Upsert(string imageId, ReadOnlySpan<float> vector, VectorAttributes attributes)
    {
        if (!_slotOf.TryGetValue(imageId, out var slot))
        {
            slot = Count++;
            EnsureCapacity(Count);
            _slotOf[imageId] = slot;
            _ids[slot] = imageId;
        }
        if (Quantized) _scales[slot] = Quantize(vector, CodesForWrite(slot));
        else vector.CopyTo(RowForWrite(slot));
        _owners[slot] = strings.Id(attributes.Owner);
        _collections[slot] = strings.Id(attributes.Collection);
        _capturedAt[slot] = attributes.CapturedAt?.UtcTicks ?? NoDate;
        _faces[slot] = attributes.FaceCount;
        _labels[slot] = attributes.Labels.Select(label => strings.Id(label.ToLowerInvariant())).Distinct().ToArray();
    }

    public bool Remove(string imageId)
    {
        if (!_slotOf.Remove(imageId, out var slot)) return false;
        var last = --Count;
        if (slot != last)
        {
            if (Quantized)
            {
                Codes(last).CopyTo(CodesForWrite(slot));
                _scales[slot] = _scales[last];
            }
            else Row(last).CopyTo(RowForWrite(slot));
            _ids[slot] = _ids[last];
            _owners[slot] = _owners[last];
            _collections[slot] = _collections[last];
            _capturedAt[slot] = _capturedAt[last];
            _faces[slot] = _faces[last];
            _labels[slot] = _labels[last];
            _slotOf[_ids[slot]] = slot;
        }
        _ids[last] = null!;
        _labels[last] = null!;
        return true;
    }

    /// <summary>
    /// Exact top-k by dot product among the rows that pass the filter. The filter is checked before the dot product,
    /// so a selective filter costs less, and a filtered query returns min(k, rows that pass) hits: never a short page.
    /// Blocks are scanned in parallel (at most <paramref name="maxThreads"/>) when there is more than one.
    /// </summary>
    public IReadOnlyList<VectorHit> Search(ReadOnlySpan<float> query, int k, VectorFilter filter, int maxThreads)
    {
        if (Count == 0 || !TryCompile(filter, out var compiled)) return [];
        if (Quantized)
        {
            // The query in int8 too: the scan is then integer multiply-adds over a quarter of the bytes.
            var codes = new sbyte[Dimensions];
            var scale = Quantize(query, codes);
            return SearchQuantized(codes, scale, k, compiled, maxThreads);
        }
        var blocks = (Count + BlockRows - 1) / BlockRows;
        TopHits top;
        if (blocks == 1 || maxThreads <= 1)
        {
            top = new TopHits(k);
            for (var b = 0; b < blocks; b++) ScanBlock(b, query, compiled, top);
        }
        else
        {
            var queryCopy = query.ToArray();
            top = new TopHits(k);
            var gate = new Lock();
            Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = maxThreads },
                () => new TopHits(k),
                (b, _, local) => { ScanBlock(b, queryCopy, compiled, local); return local; },
                local => { lock (gate) top.MergeFrom(local); });
        }
        var sorted = top.Sorted();
        var hits = new VectorHit[sorted.Length];
        for (var i = 0; i < sorted.Length; i++) hits[i] = new VectorHit(_ids[sorted[i].Slot], sorted[i].Score);
        return hits;
    }

    private IReadOnlyList<VectorHit> SearchQuantized(sbyte[] query, float queryScale, int k, CompiledFilter filter, int maxThreads)
    {
        var blocks = (Count + BlockRows - 1) / BlockRows;
        var top = new TopHits(k);
        var gate = new Lock();
        Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, maxThreads) },
            () => new TopHits(k),
            (b, _, local) => { ScanCodes(b, query, queryScale, filter, local); return local; },
            local => { lock (gate) top.MergeFrom(local); });
        return top.Sorted().Select(hit => new VectorHit(_ids[hit.Slot], hit.Score)).ToArray();
    }

    private void ScanCodes(int block, sbyte[] query, float queryScale, CompiledFilter filter, TopHits top)
    {
        var data = _codeBlocks[block];
        var first = block * BlockRows;
        var rows = Math.Min(BlockRows, Count - first);
        var d = Dimensions;
        for (var r = 0; r < rows; r++)
        {
            var slot = first + r;
            if (!filter.IsEmpty && !filter.Passes(this, slot)) continue;
            var score = DotInt8(new ReadOnlySpan<sbyte>(data, r * d, d), query) * _scales[slot] * queryScale;
            if (score > top.Threshold) top.Offer(score, slot);
        }
    }

    /// <summary>Symmetric int8 codes of <paramref name="vector"/>; returns the scale that turns codes back into values.</summary>
    internal static float Quantize(ReadOnlySpan<float> vector, Span<sbyte> codes)
    {
        // MaxMagnitude returns the component itself, sign included: the scale must come from its absolute value, or a
        // vector whose largest component is negative gets scale 1 and all-zero codes (and never reaches the re-rank).
        var max = MathF.Abs(TensorPrimitives.MaxMagnitude(vector));
        var scale = max > 0 ? max / 127f : 1f;
        for (var i = 0; i < vector.Length; i++) codes[i] = (sbyte)Math.Clamp(MathF.Round(vector[i] / scale), -127f, 127f);
        return scale;
    }

    internal static int DotInt8(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b)
    {
        var i = 0;
        var sum = 0;
        if (Avx2.IsSupported && a.Length >= Vector256<sbyte>.Count)
        {
            ref var ra = ref MemoryMarshal.GetReference(a);
            ref var rb = ref MemoryMarshal.GetReference(b);
            var acc = Vector256<int>.Zero;
            for (; i <= a.Length - Vector256<sbyte>.Count; i += Vector256<sbyte>.Count)
            {
                var (aLow, aHigh) = Vector256.Widen(Vector256.LoadUnsafe(ref ra, (nuint)i));
                var (bLow, bHigh) = Vector256.Widen(Vector256.LoadUnsafe(ref rb, (nuint)i));
                // vpmaddwd: 16-bit products summed in pairs into 32 bits (127 × 127 × 2 cannot overflow).
                acc += Avx2.MultiplyAddAdjacent(aLow, bLow) + Avx2.MultiplyAddAdjacent(aHigh, bHigh);
            }
            sum = Vector256.Sum(acc);
        }
        for (; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }

    private void ScanBlock(int block, ReadOnlySpan<float> query, CompiledFilter filter, TopHits top)
    {
        var data = _blocks[block];
        var first = block * BlockRows;
        var rows = Math.Min(BlockRows, Count - first);
        var d = Dimensions;
        if (filter.IsEmpty)
        {
            for (var r = 0; r < rows; r++)
            {
                var score = TensorPrimitives.Dot(new ReadOnlySpan<float>(data, r * d, d), query);
                if (score > top.Threshold) top.Offer(score, first + r);
            }
            return;
        }
        for (var r = 0; r < rows; r++)
        {
            var slot = first + r;
            if (!filter.Passes(this, slot)) continue;
            var score = TensorPrimitives.Dot(new ReadOnlySpan<float>(data, r * d, d), query);
            if (score > top.Threshold) top.Offer(score, slot);
        }
    }

    private const long NoDate = long.MinValue;

    private bool TryCompile(VectorFilter filter, out CompiledFilter compiled)
    {
        compiled = default;
        int owner = -1, collection = -1, label = -1;
        // A filter value no row has ever carried matches nothing: answer at once.
        if (filter.Owner is not null && !strings.TryGet(filter.Owner, out owner)) return false;
        if (filter.Collection is not null && !strings.TryGet(filter.Collection, out collection)) return false;
        if (filter.Label is not null && !strings.TryGet(filter.Label.ToLowerInvariant(), out label)) return false;
        compiled = new CompiledFilter(owner, collection, label,
            filter.After?.UtcTicks ?? long.MinValue, filter.Before?.UtcTicks ?? long.MaxValue,
            filter.After is not null || filter.Before is not null, filter.HasFaces, filter.ImageIds);
        return filter.ImageIds is not { Count: 0 };
    }

    /// <summary>A filter with its strings resolved to interned ids; -1 means "any".</summary>
    private readonly record struct CompiledFilter(
        int Owner, int Collection, int Label, long AfterTicks, long BeforeTicks, bool HasDateRange, bool? HasFaces, IReadOnlySet<string>? ImageIds)
    {
        public bool IsEmpty => Owner < 0 && Collection < 0 && Label < 0 && !HasDateRange && HasFaces is null && ImageIds is null;

        public bool Passes(SpaceVectors space, int slot)
        {
            if (ImageIds is not null && !ImageIds.Contains(space._ids[slot])) return false;
            if (Owner >= 0 && space._owners[slot] != Owner) return false;
            if (Collection >= 0 && space._collections[slot] != Collection) return false;
            if (HasFaces is { } faces && (space._faces[slot] > 0) != faces) return false;
            if (HasDateRange)
            {
                // After is inclusive, Before exclusive; an image without a capture time has no place in a date range.
                var at = space._capturedAt[slot];
                if (at == NoDate || at < AfterTicks || at >= BeforeTicks) return false;
            }
            return Label < 0 || Array.IndexOf(space._labels[slot], Label) >= 0;
        }
    }

    private ReadOnlySpan<float> Row(int slot) =>
        new(_blocks[slot / BlockRows], slot % BlockRows * Dimensions, Dimensions);

    private Span<float> RowForWrite(int slot) =>
        new(_blocks[slot / BlockRows], slot % BlockRows * Dimensions, Dimensions);

    private ReadOnlySpan<sbyte> Codes(int slot) =>
        new(_codeBlocks[slot / BlockRows], slot % BlockRows * Dimensions, Dimensions);

    private Span<sbyte> CodesForWrite(int slot) =>
        new(_codeBlocks[slot / BlockRows], slot % BlockRows * Dimensions, Dimensions);

    private void EnsureCapacity(int rows)
    {
        if (Quantized)
            while (_codeBlocks.Count * BlockRows < rows) _codeBlocks.Add(new sbyte[BlockRows * Dimensions]);
        else
            while (_blocks.Count * BlockRows < rows) _blocks.Add(new float[BlockRows * Dimensions]);
        if (_ids.Length >= rows) return;
        var size = Math.Max(rows, _ids.Length * 2);
        Array.Resize(ref _ids, size);
        Array.Resize(ref _owners, size);
        Array.Resize(ref _collections, size);
        Array.Resize(ref _capturedAt, size);
        Array.Resize(ref _faces, size);
        if (Quantized) Array.Resize(ref _scales, size);
        Array.Resize(ref _labels, size);
    }
}

/// <summary>
/// Owner, collection and label strings as small ints, shared by every space of an index, so a filter compares ints
/// inside the scan. Labels are lower-cased first (a "Dog" filter finds "dog"); owners and collections compare exactly.
/// Guarded by the index's write lock for additions; lookups happen under its read lock.
/// </summary>
internal sealed class StringIds
{
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);

    public int Id(string value)
    {
        if (_ids.TryGetValue(value, out var id)) return id;
        id = _ids.Count;
        _ids[value] = id;
        return id;
    }

    public bool TryGet(string value, out int id) => _ids.TryGetValue(value, out id);
}
