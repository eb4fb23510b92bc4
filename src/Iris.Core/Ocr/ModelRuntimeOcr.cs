using Iris.Core.Inference;

namespace Iris.Core.Ocr;

public static class ModelRuntimeOcr
{
    public static Task<PpOcrReader> GetOcrReaderAsync(this ModelRuntime runtime, string name, CancellationToken cancellationToken = default) =>
        runtime.GetAsync<PpOcrReader>(name, "ocr", cancellationToken);
}
