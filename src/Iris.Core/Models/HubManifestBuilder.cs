using System.Text.Json;

namespace Iris.Core.Models;

/// <summary>
/// Writes the manifest of a model pulled from the Hub, from the repository's own <c>config.json</c>: the task follows
/// from <c>model_type</c> (vision-encoder-decoder → describe, clip → embed); everything else the loaders read from the
/// Hugging Face files at load time.
/// </summary>
public static class HubManifestBuilder
{
    public static ModelManifest Build(string name, HubReference reference, string commit, string directory, IReadOnlyList<ModelFile> files, bool quantized)
    {
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "config.json")));
        var modelType = config.RootElement.TryGetProperty("model_type", out var t) ? t.GetString() : null;
        var (task, section) = modelType switch
        {
            "vision-encoder-decoder" => ("describe", "captioner"),
            "clip" or "siglip" => ("embed", "clip"),
            _ => throw new ModelPullException(
                $"{reference.Repository} is a '{modelType ?? "(no model_type)"}' model; Iris serves pulled vision-encoder-decoder captioners (describe) and CLIP models (embed)."),
        };
        var manifest = new ModelManifest
        {
            Name = name,
            Task = task,
            Version = commit.Length >= 12 ? commit[..12] : commit,
            Description = $"{reference.Repository} from the Hugging Face Hub",
            Source = $"hf:{reference.Repository}@{commit}",
            Files = files,
            Sections = new Dictionary<string, JsonElement> { [section] = JsonSerializer.SerializeToElement(new { quantized }) },
        };
        manifest.Validate();
        return manifest;
    }
}
