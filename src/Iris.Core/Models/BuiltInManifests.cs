namespace Iris.Core.Models;

/// <summary>The manifests shipped with Iris (repository folder <c>models/manifests</c>, embedded at build time).</summary>
public static class BuiltInManifests
{
    private const string Prefix = "Iris.Manifests.";

    public static IReadOnlyList<ModelManifest> Load()
    {
        var assembly = typeof(BuiltInManifests).Assembly;
        return assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal) && n.EndsWith(".json", StringComparison.Ordinal))
            .Order()
            .Select(n =>
            {
                using var stream = assembly.GetManifestResourceStream(n)!;
                using var reader = new StreamReader(stream);
                return ModelManifest.Parse(reader.ReadToEnd(), n[Prefix.Length..]);
            })
            .ToList();
    }
}
