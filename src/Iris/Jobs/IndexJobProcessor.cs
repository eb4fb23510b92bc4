using System.Text.Json;
using Iris.Contracts;
using Iris.Core.Jobs;
using Iris.Core.Library;
using Iris.Core.Storage;

namespace Iris.Jobs;

/// <summary>
/// The <c>library_index</c> job task: indexes one library image (parameter <c>image_id</c>) through
/// <see cref="ImageLibrary.IndexAsync"/>. The job carries the image's bytes like any job; they must be the image's own
/// (their content id is the image id), so a job cannot write another image's index entry. Indexing is an upsert, so a
/// job re-run after its worker died writes the same entry again, never a second one.
/// </summary>
public sealed class IndexJobProcessor(IServiceProvider services) : IJobProcessor
{
    private static readonly JsonSerializerOptions Json = new(DetectionResponse.Json) { WriteIndented = false };

    // Resolved on the first job: API-only nodes and queues that never run one need no vector index open.
    private ImageLibrary Library => services.GetRequiredService<ImageLibrary>();

    public IReadOnlyCollection<string> Tasks { get; } = [LibrarySettings.IndexJobTask];

    public void Validate(IReadOnlyList<string> tasks, IReadOnlyDictionary<string, string> parameters) => ImageId(parameters);

    public async Task<JobOutput> ProcessAsync(JobInput input, CancellationToken cancellationToken)
    {
        var id = ImageId(input.Parameters);
        if (BlobIds.For(input.Image) != id)
            throw new PermanentJobFailureException($"The job's image is not the library image '{id}' (its content id differs).");
        try
        {
            var outcome = await Library.IndexAsync(id, input.Image, cancellationToken);
            var document = JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                [LibrarySettings.IndexJobTask] = new { image_id = id, state = outcome.Image.State.ToString().ToLowerInvariant(), fields = outcome.Image.Fields },
            }, Json);
            return new JobOutput(document, outcome.GeneratedBy);
        }
        catch (Exception e) when (ImageLibrary.IsPermanent(e))
        {
            await Library.MarkFailedAsync(id, e.Message, CancellationToken.None);
            throw new PermanentJobFailureException(e.Message, e);
        }
    }

    private static string ImageId(IReadOnlyDictionary<string, string> parameters) =>
        parameters.GetValueOrDefault("image_id") is { } id && BlobIds.IsValid(id)
            ? id
            : throw new InvalidJobRequestException("A library_index job needs image_id: the 32-hex content id of a library image (POST /v1/images queues these jobs itself).", "image_id");
}
