using Iris.Core.Inference;
using Iris.Core.Models;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Iris.Http;

public static class ModelsApi
{
    /// <summary>
    /// <c>state</c>: not_loaded, pulling, loading, ready, failed or unloaded (<c>unload_reason</c>: idle or memory_budget).
    /// <c>memory_bytes</c>: the estimated memory while loaded; <c>last_used</c>: when a request last used it.
    /// </summary>
    public sealed record ModelDto(string Name, string Task, string Version, string? Description, string? License, bool Installed, string State, string? Error, long Bytes,
        DateTimeOffset? LastUsed, long? MemoryBytes, string? UnloadReason, int InUse);

    public static IEndpointRouteBuilder MapModelsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/models").WithTags("Models");
        group.MapGet("", List).WithName("ListModels").WithSummary("Every model in the catalog, with install and load state");
        group.MapGet("/{name}", Get).WithName("GetModel").WithSummary("One model's manifest summary and state")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    private static Ok<IReadOnlyList<ModelDto>> List(ModelRuntime models) =>
        TypedResults.Ok<IReadOnlyList<ModelDto>>(models.Catalog.All.OrderBy(m => m.Name).Select(m => Describe(m, models.Status(m.Name))).ToList());

    private static Results<Ok<ModelDto>, ProblemHttpResult> Get(string name, ModelRuntime models) =>
        models.Catalog.Contains(name)
            ? TypedResults.Ok(Describe(models.Catalog.Get(name), models.Status(name)))
            : TypedResults.Problem($"There is no model named '{name}'.", statusCode: 404, title: "Unknown model");

    private static ModelDto Describe(ModelManifest m, ModelStatus s) =>
        new(m.Name, m.Task, m.Version, m.Description, m.License, s.Installed, System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(s.State.ToString()), s.Error, m.Files.Sum(f => f.Bytes ?? 0),
            s.LastUsed, s.MemoryBytes, s.UnloadReason, s.InUse);
}
