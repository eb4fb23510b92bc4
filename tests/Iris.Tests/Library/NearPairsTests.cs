using System.Numerics;
using Iris.Core.Library;

namespace Iris.Tests.Library;

/// <summary>The banded search for near-duplicate pairs finds exactly the pairs an all-pairs comparison finds.</summary>
public sealed class NearPairsTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(6)]
    [InlineData(10)]
    public void Banded_search_finds_every_pair_within_the_distance_and_no_other(int distance)
    {
        var random = new Random(distance);
        var images = new List<(string Id, ulong Hash)>();
        for (var i = 0; i < 1500; i++)
        {
            var hash = (ulong)random.NextInt64() ^ ((ulong)random.Next() << 40);
            images.Add(($"img{i:D4}", hash));
            // A planted neighbour 0..distance+2 bits away, so pairs at and just past the limit exist.
            var neighbour = hash;
            foreach (var bit in Enumerable.Range(0, 64).OrderBy(_ => random.Next()).Take(random.Next(distance + 3))) neighbour ^= 1UL << bit;
            images.Add(($"img{i:D4}b", neighbour));
        }
        var expected = new HashSet<(string, string)>();
        for (var i = 0; i < images.Count; i++)
            for (var j = i + 1; j < images.Count; j++)
                if (BitOperations.PopCount(images[i].Hash ^ images[j].Hash) <= distance)
                    expected.Add(SqlLibraryStore.Pair(images[i].Id, images[j].Id));
        Assert.NotEmpty(expected);
        Assert.Equal(expected.Order(), Duplicates.NearPairs(images, distance).Order());
    }
}
