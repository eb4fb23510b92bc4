using Iris.Core.Imaging;

namespace Iris.Core.Tasks;

/// <summary>The typed parameters of one task (model name included), read once at the door.</summary>
public interface ITaskParameters;

/// <summary>One image, decoded once and shared by every task of a run: the original bytes (for header and EXIF) and the pixels.</summary>
public readonly record struct TaskInput(byte[] Source, DecodedImage Image);

/// <summary>What a task produced: its typed result and the model that produced it (null for a task without a model), for <c>generated_by</c>.</summary>
public sealed record TaskResult(object Value, string? Model);

/// <summary>
/// A task whose parameters are read and whose model is loaded: how much of the image it needs (so the one decode can be
/// as small as every task of the run allows), and running it on the decoded image gives its result.
/// </summary>
public sealed record PreparedTask(DecodeNeed Need, Func<TaskInput, CancellationToken, Task<TaskResult>> Run);

/// <summary>
/// One thing Iris can do to a decoded image (detect, faces, classify, info, …). Every door — a route, a facade, a CLI
/// command, a job — reads its input into the task's parameters and runs it through <see cref="ImageAnalyzer"/>.
/// </summary>
public interface IImageTask
{
    /// <summary>The name used in <c>tasks=</c> and as the key of the task's section, lower case.</summary>
    string Name { get; }

    /// <summary>
    /// True for tasks that run a model. Model tasks of one analysis run one after another (bounded by
    /// Analyze:MaxParallelModelTasks), since one ONNX run already uses every core; tasks without a model run beside them.
    /// </summary>
    bool UsesModel { get; }

    /// <summary>The prefix of the task's parameters in a request that runs several tasks (<c>detect_</c>).</summary>
    string ParameterPrefix { get; }

    /// <summary>Reads and checks the task's parameters; throws <see cref="InvalidParameterException"/>. Loads nothing.</summary>
    ITaskParameters Read(ParameterReader reader);

    /// <summary>Loads the task's model, so a model that is missing or not ready fails before any pixel is decoded.</summary>
    Task<PreparedTask> PrepareAsync(ITaskParameters parameters, CancellationToken cancellationToken);
}

/// <summary>
/// A typed task: <typeparamref name="TParameters"/> in, <typeparamref name="TResult"/> out, run with the loaded
/// <typeparamref name="TModel"/>. Loading and running are two calls (not a closure) so that a single-task request adds no
/// allocation to the model's own.
/// </summary>
public abstract class ImageTask<TParameters, TModel, TResult> : IImageTask
    where TParameters : ITaskParameters
    where TResult : class
{
    public abstract string Name { get; }
    public virtual bool UsesModel => true;
    public virtual string ParameterPrefix => Name + "_";

    public abstract TParameters Read(ParameterReader reader);

    /// <summary>Loads (or finds loaded) what the task runs with, normally the model its parameters name.</summary>
    public abstract Task<TModel> LoadAsync(TParameters parameters, CancellationToken cancellationToken);

    public abstract Task<TResult> RunAsync(TModel model, TParameters parameters, TaskInput input, CancellationToken cancellationToken);

    /// <summary>
    /// How much of the image the task needs with this model: full resolution unless the task's model resizes to a bounded
    /// input. A task that states a bounded need may be given an image shrunk on load (<see cref="DecodedImage.IsShrunk"/>)
    /// and reports every pixel coordinate in the original image's pixels.
    /// </summary>
    public virtual DecodeNeed InputNeed(TModel model, TParameters parameters) => DecodeNeed.FullResolution;

    /// <summary>
    /// Runs on several images at once, one result per input in order. One at a time unless the task's model has a batched
    /// path (a captioner encodes a batch in one run).
    /// </summary>
    public virtual async Task<IReadOnlyList<TResult>> RunBatchAsync(
        TModel model, TParameters parameters, IReadOnlyList<TaskInput> inputs, CancellationToken cancellationToken)
    {
        var results = new TResult[inputs.Count];
        for (var i = 0; i < results.Length; i++)
            results[i] = await RunAsync(model, parameters, inputs[i], cancellationToken);
        return results;
    }

    /// <summary>The catalog name of the model that produced <paramref name="result"/>; null for a task without a model.</summary>
    public abstract string? ModelOf(TResult result);

    ITaskParameters IImageTask.Read(ParameterReader reader) => Read(reader);

    async Task<PreparedTask> IImageTask.PrepareAsync(ITaskParameters parameters, CancellationToken cancellationToken)
    {
        var typed = (TParameters)parameters;
        var model = await LoadAsync(typed, cancellationToken);
        return new PreparedTask(InputNeed(model, typed), async (input, ct) =>
        {
            var result = await RunAsync(model, typed, input, ct);
            return new TaskResult(result, ModelOf(result));
        });
    }
}
