using System.Text.Json;
using Iris.Core.Models;

namespace Iris.Core.HuggingFace;

/// <summary>
/// An installed model folder in the Hugging Face layout (Optimum / transformers.js): config files at the root,
/// ONNX files under <c>onnx/</c> or at the root, <c>_quantized</c> variants beside the full-precision ones.
/// Only files the manifest lists are used, because only those are verified.
/// </summary>
public sealed class HfModelFolder(ModelManifest manifest, string directory)
{
    public string Directory => directory;

    public string Path(string relative) => System.IO.Path.Combine(directory, relative);

    public bool Has(string relative) => manifest.Files.Any(f => f.Path == relative) && File.Exists(Path(relative));

    /// <summary>The path of <paramref name="stem"/>.onnx (or its quantized variant) in the first folder that has it.</summary>
    public string? FindOnnx(string stem, bool quantized, string? onnxDirectory)
    {
        var name = quantized ? stem + "_quantized.onnx" : stem + ".onnx";
        foreach (var folder in onnxDirectory is not null ? [onnxDirectory] : new[] { "onnx", "" })
        {
            var relative = folder.Length == 0 ? name : folder.TrimEnd('/') + "/" + name;
            if (Has(relative)) return relative;
        }
        return null;
    }

    public string Require(string relative) =>
        Has(relative) ? Path(relative)
            : throw new InvalidModelManifestException(manifest.Name, $"it needs '{relative}', which is not among its installed files");

    public JsonDocument ReadJson(string relative) => JsonDocument.Parse(File.ReadAllText(Require(relative)));
}
