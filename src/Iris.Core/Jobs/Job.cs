namespace Iris.Core.Jobs;

public enum JobStatus { Queued, Processing, Done, Failed, Canceled }

/// <summary>A model that contributed to a result, as reported in <c>generated_by</c>.</summary>
public sealed record ModelVersion(string Name, string Version);

/// <summary>
/// One unit of asynchronous work: the requested tasks run on one stored input image. The store holds the
/// authoritative state; queues only carry job ids, so every transition is decided here.
/// </summary>
public sealed record Job
{
    public required string Id { get; init; }
    public JobStatus Status { get; init; } = JobStatus.Queued;
    public required IReadOnlyList<string> Tasks { get; init; }
    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>();

    /// <summary>The input image in the <see cref="IJobBlobStore"/>.</summary>
    public required string InputRef { get; init; }

    /// <summary>The uploaded file name, when the client sent one.</summary>
    public string? InputName { get; init; }

    /// <summary>Jobs submitted together in one multipart request share a batch id.</summary>
    public string? BatchId { get; init; }

    /// <summary>The result document (JSON), once <see cref="JobStatus.Done"/>.</summary>
    public string? Result { get; init; }

    /// <summary>The last error: set on failure, and kept on a retried job until it succeeds.</summary>
    public string? Error { get; init; }

    public int Attempts { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }
    public IReadOnlyList<ModelVersion> GeneratedBy { get; init; } = [];

    /// <summary>The caller who owns the job; null until authentication exists.</summary>
    public string? Owner { get; init; }

    public string? IdempotencyKey { get; init; }

    /// <summary>Where a signed webhook is posted when the job finishes.</summary>
    public string? CallbackUrl { get; init; }

    /// <summary>The worker holding the job while it is <see cref="JobStatus.Processing"/>.</summary>
    public string? Worker { get; init; }

    /// <summary>When that worker last proved it was alive; a stale heartbeat lets another worker take the job over.</summary>
    public DateTimeOffset? HeartbeatAt { get; init; }

    public bool IsFinished => Status is JobStatus.Done or JobStatus.Failed or JobStatus.Canceled;

    /// <summary>A job id as a client sent it back: Iris's 32 hex digits, or the dashed UUID form the compatibility routes show.</summary>
    public static string IdOf(string sent) =>
        sent.Length == 36 && Guid.TryParseExact(sent, "D", out var uuid) ? uuid.ToString("N") : sent;

    private static readonly Lock IdLock = new();
    private static long _lastIdTime;
    private static int _idSequence;

    /// <summary>
    /// A new id that sorts in submission order, so ids double as list cursors and a batch lists in upload order: a
    /// UUIDv7 in RFC 9562's layout with a 12-bit sequence within the millisecond as its rand_a ("method 1", since a plain
    /// UUIDv7 is not ordered within one millisecond): 48-bit milliseconds, version 7, the sequence, variant 10 and 62
    /// random bits, written as 32 hex digits. Being a real UUID, it reads as one in the dashed form the compatibility
    /// routes show (<see cref="Guid.ParseExact(string, string)"/> with "N" turns it back).
    /// </summary>
    public static string NewId(TimeProvider? clock = null)
    {
        long time;
        int sequence;
        lock (IdLock)
        {
            time = Math.Max((clock ?? TimeProvider.System).GetUtcNow().ToUnixTimeMilliseconds(), _lastIdTime);
            if (time == _lastIdTime && ++_idSequence > 0xFFF)
            {
                time++;
                _idSequence = 0;
            }
            else if (time != _lastIdTime)
                _idSequence = 0;
            _lastIdTime = time;
            sequence = _idSequence;
        }
        var random = (Random.Shared.NextInt64() & 0x3FFF_FFFF_FFFF_FFFF) | unchecked((long)0x8000_0000_0000_0000);
        return $"{time:x12}7{sequence:x3}{random:x16}";
    }
}

/// <summary>One page of a job listing, newest first.</summary>
public sealed record JobPage(IReadOnlyList<Job> Jobs, string? NextCursor);

/// <summary>What a listing asks for.</summary>
/// <param name="Owner">Only this caller's jobs; null lists everyone's.</param>
public sealed record JobQuery(JobStatus? Status = null, int Limit = 50, string? Cursor = null, string? BatchId = null, string? Owner = null);
