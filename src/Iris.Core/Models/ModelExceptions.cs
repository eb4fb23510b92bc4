namespace Iris.Core.Models;

public sealed class ModelNotFoundException(string name, IEnumerable<string> known)
    : Exception($"There is no model named '{name}'. Known models: {string.Join(", ", known)}.")
{
    public string ModelName { get; } = name;
}

/// <summary>The model exists in the catalog but cannot serve requests now (not installed, loading, or failed to load).</summary>
public sealed class ModelNotReadyException(string name, string reason)
    : Exception($"Model '{name}' is not ready: {reason}")
{
    public string ModelName { get; } = name;
}

public sealed class ModelTaskMismatchException(string name, string task, string wanted)
    : Exception($"Model '{name}' is a '{task}' model; this operation needs a '{wanted}' model.");

public sealed class InvalidModelManifestException(string origin, string reason)
    : Exception($"The manifest of model '{origin}' is invalid: {reason}.");

public sealed class ModelFileIntegrityException(string message) : Exception(message);

public sealed class ModelPullException(string message, Exception? inner = null) : Exception(message, inner);
