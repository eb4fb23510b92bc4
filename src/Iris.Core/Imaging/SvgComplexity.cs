using System.Xml;

namespace Iris.Core.Imaging;

/// <summary>
/// Refuses an SVG whose drawing would cost unbounded CPU before librsvg sees it. librsvg renders in calls that libvips
/// cannot interrupt, and libvips asks for the drawing tile by tile, so the cost is what the document expands to —
/// ten levels of ten <c>&lt;use&gt;</c> each are 10^10 shapes in 2 KB — times the filters it applies over the canvas.
/// Both are counted here from the XML alone, following <c>&lt;use&gt;</c> references as librsvg would.
/// </summary>
public static class SvgComplexity
{
    /// <summary>Shapes after expanding every &lt;use&gt;: far above a detailed map or chart (a few thousand), far below a bomb.</summary>
    public const long MaxRenderedElements = 50_000;

    /// <summary>Filtered elements after expansion: each filter is a pass over up to the whole canvas (a blur at
    /// 2000×2000 takes over a second), so a drawing with a few drop shadows passes and a stack of blurs does not.</summary>
    public const long MaxFilteredElements = 25;

    /// <summary>Deeper nesting or reference chains are refused: real drawings nest a few dozen levels, and the count
    /// itself must not recurse without bound.</summary>
    public const int MaxDepth = 256;

    /// <summary>Entities may not expand past this many characters (a "billion laughs" document stops here).</summary>
    private const long MaxEntityCharacters = 1_000_000;

    public static void Check(byte[] data)
    {
        var root = Parse(data);
        var memo = new Dictionary<Node, (long Elements, long Filtered)>(ReferenceEqualityComparer.Instance);
        var (elements, filtered) = Cost(root, root.Ids, memo, [], 0);
        if (elements > MaxRenderedElements)
            throw new ImageTooComplexException(
                $"The SVG expands to {elements:N0} elements once its <use> references are followed; the limit is {MaxRenderedElements:N0}.");
        if (filtered > MaxFilteredElements)
            throw new ImageTooComplexException(
                $"The SVG applies filters to {filtered:N0} elements; the limit is {MaxFilteredElements:N0} (each filter is a pass over the canvas).");
    }

    private static Node Parse(byte[] data)
    {
        var settings = new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Parse,
            MaxCharactersFromEntities = MaxEntityCharacters,
            XmlResolver = null,
            IgnoreComments = true,
            IgnoreWhitespace = true,
        };
        var ids = new Dictionary<string, Node>(StringComparer.Ordinal);
        var root = new Node(ids);
        var stack = new Stack<Node>();
        stack.Push(root);
        try
        {
            using var reader = XmlReader.Create(new MemoryStream(data), settings);
            while (reader.Read())
            {
                if (reader.NodeType == XmlNodeType.EndElement)
                {
                    stack.Pop();
                    continue;
                }
                if (reader.NodeType != XmlNodeType.Element) continue;
                var node = new Node(ids)
                {
                    Href = reader.LocalName == "use" ? (reader.GetAttribute("href") ?? reader.GetAttribute("href", "http://www.w3.org/1999/xlink")) : null,
                    Filtered = reader.GetAttribute("filter") is { Length: > 0 } filter && filter != "none"
                        || reader.GetAttribute("style")?.Contains("filter", StringComparison.OrdinalIgnoreCase) == true,
                };
                stack.Peek().Children.Add(node);
                if (reader.GetAttribute("id") is { Length: > 0 } id) ids.TryAdd(id, node);
                if (!reader.IsEmptyElement) stack.Push(node);
                if (stack.Count > MaxDepth)
                    throw new ImageTooComplexException($"The SVG nests elements more than {MaxDepth} levels deep.");
            }
        }
        catch (XmlException e)
        {
            throw new CorruptImageException($"The SVG is not well-formed XML: {e.Message}", e);
        }
        return root;
    }

    private static (long Elements, long Filtered) Cost(Node node, Dictionary<string, Node> ids,
        Dictionary<Node, (long, long)> memo, HashSet<Node> visiting, int depth)
    {
        if (memo.TryGetValue(node, out var known)) return known;
        if (depth > MaxDepth)
            throw new ImageTooComplexException($"The SVG nests elements and <use> references more than {MaxDepth} levels deep.");
        // A reference cycle is an error to librsvg, which draws nothing for it.
        if (!visiting.Add(node)) return (0, 0);
        long elements = 1, filtered = node.Filtered ? 1 : 0;
        foreach (var child in node.Children)
        {
            var (e, f) = Cost(child, ids, memo, visiting, depth + 1);
            elements = Saturate(elements + e);
            filtered = Saturate(filtered + f);
        }
        if (node.Href is ['#', .. var target] && ids.TryGetValue(target, out var referenced))
        {
            var (e, f) = Cost(referenced, ids, memo, visiting, depth + 1);
            elements = Saturate(elements + e);
            filtered = Saturate(filtered + f);
        }
        visiting.Remove(node);
        memo[node] = (elements, filtered);
        return (elements, filtered);
    }

    private static long Saturate(long value) => Math.Min(value, long.MaxValue / 4);

    private sealed class Node(Dictionary<string, Node> ids)
    {
        public Dictionary<string, Node> Ids { get; } = ids;
        public List<Node> Children { get; } = [];
        public string? Href { get; init; }
        public bool Filtered { get; init; }
    }
}
