namespace Iris.Core.Jobs.Kafka;

/// <summary>
/// Decides which offsets may be committed when messages of one partition finish out of order (several workers).
/// Kafka commits a position, not single messages: committing past a message still in progress would lose it if the
/// worker died. So the committable position is just after the longest run of finished offsets from the oldest one
/// in flight.
/// </summary>
public sealed class KafkaOffsetTracker
{
    private readonly Dictionary<int, SortedDictionary<long, bool>> _partitions = new();
    private readonly Lock _lock = new();

    /// <summary>A message was received and is now in flight.</summary>
    public void Started(int partition, long offset)
    {
        lock (_lock)
        {
            if (!_partitions.TryGetValue(partition, out var offsets))
                _partitions[partition] = offsets = new SortedDictionary<long, bool>();
            offsets[offset] = false;
        }
    }

    /// <summary>The message is handled. Returns the offset to commit for its partition (the next one to read), or null if an older message is still in flight.</summary>
    public long? Finished(int partition, long offset)
    {
        lock (_lock)
        {
            if (!_partitions.TryGetValue(partition, out var offsets) || !offsets.ContainsKey(offset)) return null;
            offsets[offset] = true;
            long? commit = null;
            while (offsets.Count > 0)
            {
                var (first, done) = offsets.First();
                if (!done) break;
                offsets.Remove(first);
                commit = first + 1;
            }
            return commit;
        }
    }

    /// <summary>Forgets a partition that was revoked (a rebalance gave it to another consumer).</summary>
    public void Revoked(int partition)
    {
        lock (_lock) _partitions.Remove(partition);
    }
}
