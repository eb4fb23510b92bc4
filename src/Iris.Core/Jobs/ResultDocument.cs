using System.Text.Json;

namespace Iris.Core.Jobs;

/// <summary>Reading a job's result document (the analyze document) for the contracts that answer only its caption.</summary>
public static class ResultDocument
{
    /// <summary>
    /// The caption in a result document: <c>describe</c> as a string, or its <c>description</c>/<c>caption</c>/<c>text</c>
    /// field. Null when the job ran no describe task.
    /// </summary>
    public static string? DescriptionOf(string? result)
    {
        if (result is null) return null;
        using var document = JsonDocument.Parse(result);
        if (!document.RootElement.TryGetProperty("describe", out var describe)) return null;
        if (describe.ValueKind == JsonValueKind.String) return describe.GetString();
        if (describe.ValueKind != JsonValueKind.Object) return null;
        foreach (var name in new[] { "description", "caption", "text" })
            if (describe.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String)
                return value.GetString();
        return null;
    }
}
