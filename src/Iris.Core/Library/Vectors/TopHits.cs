namespace Iris.Core.Library.Vectors;

/// <summary>
/// The k best (score, slot) pairs seen so far: a min-heap of at most k entries, so a scan of N vectors costs
/// O(N log k) and keeps no per-row allocation. One per scanning thread; <see cref="MergeFrom"/> joins them.
/// </summary>
internal sealed class TopHits
{
    private readonly float[] _scores;
    private readonly int[] _slots;

    public TopHits(int k)
    {
        _scores = new float[k];
        _slots = new int[k];
    }

    public int Count { get; private set; }

    /// <summary>The score a new entry must beat once the heap is full; -∞ until then.</summary>
    public float Threshold => Count < _scores.Length ? float.NegativeInfinity : _scores[0];

    public void Offer(float score, int slot)
    {
        if (Count < _scores.Length)
        {
            var i = Count++;
            _scores[i] = score;
            _slots[i] = slot;
            SiftUp(i);
        }
        else if (score > _scores[0])
        {
            _scores[0] = score;
            _slots[0] = slot;
            SiftDown(0);
        }
    }

    public void MergeFrom(TopHits other)
    {
        for (var i = 0; i < other.Count; i++) Offer(other._scores[i], other._slots[i]);
    }

    /// <summary>The entries, best first.</summary>
    public (float Score, int Slot)[] Sorted()
    {
        var result = new (float Score, int Slot)[Count];
        for (var i = 0; i < Count; i++) result[i] = (_scores[i], _slots[i]);
        Array.Sort(result, static (a, b) => b.Score.CompareTo(a.Score));
        return result;
    }

    private void SiftUp(int i)
    {
        while (i > 0)
        {
            var parent = (i - 1) / 2;
            if (_scores[parent] <= _scores[i]) return;
            Swap(i, parent);
            i = parent;
        }
    }

    private void SiftDown(int i)
    {
        while (true)
        {
            var left = 2 * i + 1;
            if (left >= Count) return;
            var smallest = left + 1 < Count && _scores[left + 1] < _scores[left] ? left + 1 : left;
            if (_scores[i] <= _scores[smallest]) return;
            Swap(i, smallest);
            i = smallest;
        }
    }

    private void Swap(int a, int b)
    {
        (_scores[a], _scores[b]) = (_scores[b], _scores[a]);
        (_slots[a], _slots[b]) = (_slots[b], _slots[a]);
    }
}
