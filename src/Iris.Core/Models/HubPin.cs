namespace Iris.Core.Models;

/// <summary>
/// A catalog manifest's <c>hub</c> section: the model's files are those of a Hugging Face Hub repository at a pinned commit.
/// The files are fetched from <c>{Models:HubEndpoint}/{repository}/resolve/{revision}/{path}</c> and checked against the
/// sha256 the manifest pins (the Hub's LFS sha256) and, by <c>iris models pull</c>, against what the Hub publishes at that commit.
/// </summary>
public sealed record HubPin
{
    public required string Repository { get; init; }

    /// <summary>A commit sha; a branch name only where no commit could be pinned (the manifest's description says so).</summary>
    public required string Revision { get; init; }

    public HubReference Reference => new(Repository, Revision);

    public static HubPin? Of(ModelManifest manifest) =>
        manifest.Sections?.ContainsKey("hub") == true ? manifest.Section<HubPin>("hub") : null;

    /// <summary>Each Hub manifest with its files' download URLs on <paramref name="endpoint"/> at the pinned revision (other manifests as they are).</summary>
    public static IReadOnlyList<ModelManifest> WithDownloadUrls(IEnumerable<ModelManifest> manifests, string endpoint)
    {
        var root = new Uri(endpoint.TrimEnd('/') + "/");
        return manifests.Select(m => Of(m) is not { } pin ? m : m with
        {
            Files = m.Files.Select(f => f.Urls.Count > 0 ? f : f with
            {
                Urls = [new Uri(root, $"{pin.Repository}/resolve/{Uri.EscapeDataString(pin.Revision)}/{string.Join('/', f.Path.Split('/').Select(Uri.EscapeDataString))}").ToString()],
            }).ToList(),
        }).ToList();
    }
}
