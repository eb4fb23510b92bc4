using Iris.Core.Inference;

namespace Iris.Core.Classification;

public static class ModelRuntimeClassification
{
    public static Task<ImageClassifier> GetClassifierAsync(this ModelRuntime runtime, string name, CancellationToken cancellationToken = default) =>
        runtime.GetAsync<ImageClassifier>(name, "classify", cancellationToken);
}
