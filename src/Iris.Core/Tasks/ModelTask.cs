using Iris.Core.Inference;

namespace Iris.Core.Tasks;

/// <summary>The parameters of a task that runs a model: the catalog name of that model, whatever else it takes.</summary>
public interface IModelParameters : ITaskParameters
{
    string Model { get; }
}

/// <summary>
/// A task that runs one catalog model of a kind (<c>detect</c>, <c>ocr</c>, …): loading is the same for all of them, the
/// model its parameters name, so a task states only how it reads its parameters and how it runs the model.
/// </summary>
public abstract class ModelTask<TParameters, TModel, TResult>(ModelRuntime models, string modelKind) : ImageTask<TParameters, TModel, TResult>
    where TParameters : IModelParameters
    where TModel : class, ILoadedModel
    where TResult : class
{
    public sealed override Task<TModel> LoadAsync(TParameters parameters, CancellationToken cancellationToken) =>
        models.GetAsync<TModel>(parameters.Model, modelKind, cancellationToken);
}
