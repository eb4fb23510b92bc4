using System.Text.Json;
using Iris.Core.Models;

namespace Iris.Core.Classification;

/// <summary>Reads class labels in the forms models ship them: a text file, a JSON array, or a JSON index → name map.</summary>
public static class ClassLabels
{
    /// <summary>Labels from a file: <c>.json</c> is parsed as JSON, anything else as one label per line.</summary>
    public static IReadOnlyList<string> FromFile(string modelName, string path)
    {
        if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            return FromJson(modelName, document.RootElement);
        }
        return File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
    }

    /// <summary>
    /// An array of names in class-index order, or an object of index → name. A value may also be an array whose last
    /// string is the name, which is the layout of torchvision's <c>imagenet_class_index.json</c> (<c>"0": ["n01440764", "tench"]</c>).
    /// </summary>
    public static IReadOnlyList<string> FromJson(string modelName, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Array:
                return element.EnumerateArray().Select((e, i) => Name(modelName, i.ToString(), e)).ToArray();
            case JsonValueKind.Object:
                var map = new SortedDictionary<int, string>();
                foreach (var property in element.EnumerateObject())
                {
                    if (!int.TryParse(property.Name, out var index) || index < 0)
                        throw new InvalidModelManifestException(modelName, $"class key '{property.Name}' is not a class index (0, 1, 2, …)");
                    map[index] = Name(modelName, property.Name, property.Value);
                }
                var labels = new string[map.Count == 0 ? 0 : map.Keys.Max() + 1];
                for (var i = 0; i < labels.Length; i++)
                    labels[i] = map.TryGetValue(i, out var name) ? name : i.ToString();
                return labels;
            default:
                throw new InvalidModelManifestException(modelName, "classes must be an array of names or an object of index → name");
        }
    }

    private static string Name(string modelName, string key, JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.Array when value.GetArrayLength() > 0 && value[value.GetArrayLength() - 1].ValueKind == JsonValueKind.String
            => value[value.GetArrayLength() - 1].GetString()!,
        _ => throw new InvalidModelManifestException(modelName, $"class '{key}' has no name"),
    };
}
