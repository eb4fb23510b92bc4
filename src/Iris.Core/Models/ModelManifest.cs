using System.Text.Json;
using System.Text.Json.Serialization;

namespace Iris.Core.Models;

/// <summary>
/// A model described as data: which files make it up (with size and sha256 so a corrupt or partial
/// download is never used), where to get them, and how to feed and read it. Adding a second YOLOX or
/// a user's own model is a new manifest, not new code.
/// </summary>
public sealed record ModelManifest
{
    public required string Name { get; init; }

    /// <summary>What the model does: <c>detect</c>, <c>faces</c>, <c>ocr</c>, <c>classify</c>, <c>describe</c>, <c>embed</c>.</summary>
    public required string Task { get; init; }

    public string Version { get; init; } = "1";
    public string? Description { get; init; }
    public string? License { get; init; }
    public string? Source { get; init; }
    public required IReadOnlyList<ModelFile> Files { get; init; }

    /// <summary>
    /// Task-specific sections (<c>detector</c>, <c>classifier</c>, …), each read by the loader of that task, so a
    /// new task adds a section type next to its own code instead of growing this record.
    /// </summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Sections { get; init; }

    public T Section<T>(string key)
    {
        if (Sections is null || !Sections.TryGetValue(key, out var element))
            throw new InvalidModelManifestException(Name, $"a '{Task}' model needs a '{key}' section");
        try
        {
            return element.Deserialize<T>(JsonOptions) ?? throw new InvalidModelManifestException(Name, $"its '{key}' section is empty");
        }
        catch (JsonException e)
        {
            throw new InvalidModelManifestException(Name, $"its '{key}' section is invalid: {e.Message}");
        }
    }

    public ModelFile File(string path) =>
        Files.FirstOrDefault(f => f.Path == path)
        ?? throw new InvalidModelManifestException(Name, $"it refers to '{path}', which is not among its files");

    public static JsonSerializerOptions JsonOptions { get; } = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        WriteIndented = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    };

    public static ModelManifest Parse(string json, string origin)
    {
        ModelManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<ModelManifest>(json, JsonOptions);
        }
        catch (JsonException e)
        {
            throw new InvalidModelManifestException(origin, $"it is not valid manifest JSON: {e.Message}");
        }
        if (manifest is null)
            throw new InvalidModelManifestException(origin, "it is empty");
        manifest.Validate();
        return manifest;
    }

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Name) || Name.IndexOfAny(['/', '\\', ':']) >= 0 || Name is "." or "..")
            throw new InvalidModelManifestException(Name, "its name must be a plain identifier such as 'yolox-nano'");
        if (Files.Count == 0)
            throw new InvalidModelManifestException(Name, "it lists no files");
        foreach (var file in Files)
        {
            if (Path.IsPathRooted(file.Path) || file.Path.Split('/', '\\').Any(p => p is ".." or ""))
                throw new InvalidModelManifestException(Name, $"file path '{file.Path}' must be relative and stay inside the model's folder");
            if (file.Sha256 is { } sha && (sha.Length != 64 || !sha.All(Uri.IsHexDigit)))
                throw new InvalidModelManifestException(Name, $"file '{file.Path}' has a sha256 that is not 64 hex digits");
        }
    }
}

public sealed record ModelFile
{
    /// <summary>Path inside the model's folder in the cache.</summary>
    public required string Path { get; init; }

    public long? Bytes { get; init; }
    public string? Sha256 { get; init; }

    /// <summary>Path of the same file in a mirror directory (the layout of <c>shared/models</c>).</summary>
    public string? MirrorPath { get; init; }

    /// <summary>Where the file can be downloaded, tried in order.</summary>
    public IReadOnlyList<string> Urls { get; init; } = [];
}

/// <summary>How to run an object detector. Only the YOLOX head is implemented; the rest is parameters.</summary>
public sealed record DetectorSpec
{
    public string Architecture { get; init; } = "yolox";

    /// <summary>The ONNX file, one of the manifest's files.</summary>
    public required string Model { get; init; }

    /// <summary>A text file with one class label per line, in the model's class-index order.</summary>
    public required string Labels { get; init; }

    public string? InputName { get; init; }
    public int InputWidth { get; init; } = 416;
    public int InputHeight { get; init; } = 416;

    /// <summary><c>bgr</c> or <c>rgb</c>: the order the model's first layer expects.</summary>
    public string ChannelOrder { get; init; } = "bgr";

    public float PadValue { get; init; } = 114f;

    /// <summary>Pixel values are multiplied by this, then have <see cref="Mean"/> subtracted and are divided by <see cref="Std"/>.</summary>
    public float Scale { get; init; } = 1f;
    public float[]? Mean { get; init; }
    public float[]? Std { get; init; }

    public int[] Strides { get; init; } = [8, 16, 32];
    public float NmsIou { get; init; } = 0.45f;
    public float DefaultMinConfidence { get; init; } = 0.4f;
}
