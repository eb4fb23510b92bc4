namespace Iris.Configuration;

/// <summary>
/// The whole configuration of Iris as one typed tree. Bound from appsettings.json, then environment
/// variables <c>IRIS__Section__Key</c>, then command-line flags; each key is documented in the README.
/// </summary>
public sealed class IrisOptions
{
    public ServerOptions Server { get; init; } = new();
    public ModelsOptions Models { get; init; } = new();
    public InferenceOptions Inference { get; init; } = new();
    public ImagesOptions Images { get; init; } = new();
    public DetectionOptions Detection { get; init; } = new();
    public ClassificationOptions Classification { get; init; } = new();
    public ModerationOptions Moderation { get; init; } = new();
    public FacesOptions Faces { get; init; } = new();
    public InfoOptions Info { get; init; } = new();
    public AnalyzeOptions Analyze { get; init; } = new();
    public OcrOptions Ocr { get; init; } = new();
    public CaptioningOptions Captioning { get; init; } = new();
    public EmbeddingsOptions Embeddings { get; init; } = new();
    public LogOptions Log { get; init; } = new();
    public MetricsOptions Metrics { get; init; } = new();
    public CrossOriginOptions Cors { get; init; } = new();
    public TracingOptions Tracing { get; init; } = new();
    public AuthOptions Auth { get; init; } = new();
    public RateLimitOptions RateLimit { get; init; } = new();
    public TransformsOptions Transforms { get; init; } = new();
    public StorageOptions Storage { get; init; } = new();
    public SourcesOptions Sources { get; init; } = new();
    public JobsOptions Jobs { get; init; } = new();
    public UiOptions Ui { get; init; } = new();
    public LibraryOptions Library { get; init; } = new();
    public PredictionsOptions Predictions { get; init; } = new();
}

public sealed class ServerOptions
{
    /// <summary>Semicolon-separated listen URLs.</summary>
    public string Urls { get; init; } = "http://127.0.0.1:8080";

    /// <summary>How long shutdown waits for in-flight requests.</summary>
    public int ShutdownTimeoutSeconds { get; init; } = 30;

    /// <summary>Longest request target (path and query), in bytes; longer answers 414 problem+json.</summary>
    public int MaxUrlLength { get; init; } = 8192;

    /// <summary>
    /// Image requests worked on at once; more wait (at most Inference:MaxQueueWaitMs, then 503). 0: twice the cores, at
    /// least 4; -1: no bound.
    /// </summary>
    public int MaxImageRequests { get; init; }
}

public sealed class ModelsOptions
{
    /// <summary>Where pulled models live, one folder per model.</summary>
    public string CacheDirectory { get; init; } = "data/models";

    /// <summary>A local directory laid out like shared/models to copy models from instead of downloading.</summary>
    public string? Mirror { get; init; }

    /// <summary>
    /// Comma-separated models the server loads and warms at start-up and reports in readiness. <c>auto</c> stands for the
    /// default model of every task its routes serve (<see cref="ServedModels"/>); an explicit list loads exactly those.
    /// Unset: <see cref="Enabled"/>, its older name.
    /// </summary>
    public string? Preload { get; init; }

    /// <summary>The older name of <see cref="Preload"/>, still read when Preload is not set.</summary>
    public string Enabled { get; init; } = ServedModels.Auto;

    /// <summary>Models:Preload, else Models:Enabled, as a list.</summary>
    public IReadOnlyList<string> EnabledModels =>
        (Preload ?? Enabled).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>
    /// Unload a model no request has used for this long (hh:mm:ss); the next request loads it again. Unset: models stay
    /// loaded. Applies to preloaded models too (as Immich's model TTL does).
    /// </summary>
    public TimeSpan? IdleUnloadAfter { get; init; }

    /// <summary>
    /// Most estimated memory the loaded models may take ("2GiB", "512MiB", "1.5GB" or bytes); loading one more unloads the
    /// least recently used first. Unset: no limit.
    /// </summary>
    public string? MemoryBudget { get; init; }

    /// <summary><see cref="MemoryBudget"/> in bytes; null when unset (or invalid, which validation reports).</summary>
    public long? MemoryBudgetBytes => ByteSize.TryParse(MemoryBudget, out var bytes) ? bytes : null;

    /// <summary>Load enabled models when the server starts (true) or on their first request (false).</summary>
    public bool LoadOnStartup { get; init; } = true;

    /// <summary>Pull a model that is not in the cache when it is first needed.</summary>
    public bool AutoPull { get; init; } = true;

    /// <summary>Check every file's sha256 before loading a model.</summary>
    public bool VerifyOnLoad { get; init; } = true;

    public int DownloadAttempts { get; init; } = 5;
    public int DownloadTimeoutSeconds { get; init; } = 600;

    /// <summary>The Hugging Face Hub (or a mirror of it) that <c>iris models pull hf:OWNER/NAME</c> downloads from.</summary>
    public string HubEndpoint { get; init; } = "https://huggingface.co";

    /// <summary>A Hub access token for gated or private repositories; sent only to <see cref="HubEndpoint"/>.</summary>
    public string? HubToken { get; init; }
}

public sealed class InferenceOptions
{
    /// <summary>
    /// Threads ONNX Runtime uses inside one operator. 0 (auto): one process-wide pool of one thread per core the process
    /// may use (cgroup quota aware), shared by every model; above 0, each session gets a pool of its own of that many.
    /// </summary>
    public int IntraOpThreads { get; init; }

    /// <summary>Threads for running independent operators in parallel (ExecutionMode=parallel); 0 = default.</summary>
    public int InterOpThreads { get; init; }

    /// <summary>disabled, basic, extended or all.</summary>
    public string GraphOptimization { get; init; } = "all";

    /// <summary>sequential or parallel.</summary>
    public string ExecutionMode { get; init; } = "sequential";

    /// <summary>Inference runs allowed at once per model; 0 (auto) = one per core the process may use.</summary>
    public int MaxConcurrentRuns { get; init; }

    /// <summary>
    /// How long a run may wait for its model; a run expected to wait longer is refused at once, one that waited this long
    /// is refused then (503 with Retry-After). 0 = wait without bound.
    /// </summary>
    public int MaxQueueWaitMs { get; init; } = 2_000;

    /// <summary>Let ONNX Runtime's idle threads spin waiting for work instead of sleeping (faster alone, worse when cores are shared).</summary>
    public bool Spinning { get; init; }

    /// <summary>
    /// Detection, face and classifier models and PP-OCR's text detector run on a session whose own pool spins between operators while the process
    /// has them to itself (lowest latency for one caller), and on one thread per run under concurrency (one run per core).
    /// </summary>
    public bool AdaptiveSessions { get; init; } = true;

    /// <summary>Dynamic batching of concurrent requests per model (Inference:Batching:*).</summary>
    public BatchingOptions Batching { get; init; } = new();
}

public sealed class ImagesOptions
{
    public long MaxBytes { get; init; } = 20_000_000;
    public long MaxPixels { get; init; } = 40_000_000;

    /// <summary>Widest and tallest accepted image, checked from the header like <see cref="MaxPixels"/>.</summary>
    public int MaxWidth { get; init; } = 32_768;
    public int MaxHeight { get; init; } = 32_768;

    /// <summary>Longer side over shorter side; thinner images are refused from the header.</summary>
    public double MaxAspectRatio { get; init; } = 2000;

    /// <summary>SVGs are rasterised at a scale that fits this many pixels (librsvg cannot be interrupted mid-render).</summary>
    public long MaxSvgPixels { get; init; } = 4_000_000;

    public int DecodeTimeoutMs { get; init; } = 10_000;

    /// <summary>Decoded pixels allowed in flight across the process; 0 = sized from the memory available (a quarter of it at 8 bytes per pixel).</summary>
    public long MaxInFlightPixels { get; init; }

    /// <summary>How long a decode waits for room in <see cref="MaxInFlightPixels"/> before it is shed with 503 and Retry-After.</summary>
    public int AdmissionWaitMs { get; init; } = 2_000;

    /// <summary>Quiet time after a burst of decodes before its memory is given back to the OS; 0 = never.</summary>
    public int TrimAfterBurstMs { get; init; } = 5_000;

    /// <summary>
    /// Decode a JPEG or WebP only as large as the request's tasks need (DCT scaling / scaled WebP decode, leaving the
    /// model's resampler at least 2× to shrink); false decodes every image at full resolution.
    /// </summary>
    public bool ShrinkOnLoad { get; init; } = true;

    /// <summary>
    /// Decode upright YCbCr, RGB and grey JPEGs with libjpeg-turbo's TurboJPEG API when <c>libturbojpeg.so.0</c> is
    /// installed (same pixels as libvips, about half the CPU); false, or without the library, libvips decodes them.
    /// </summary>
    public bool TurboJpeg { get; init; } = true;
}

public sealed class DetectionOptions
{
    /// <summary>The detector used when a request names none.</summary>
    public string Model { get; init; } = "yolox-nano";
    public float MinConfidence { get; init; } = 0.4f;
    public int MaxDetections { get; init; } = 100;
}

public sealed class ClassificationOptions
{
    /// <summary>The classifier used when a request names none.</summary>
    public string Model { get; init; } = "petal-color";
    public int TopK { get; init; } = 5;
    public float MinConfidence { get; init; } = 0f;
}

/// <summary>Content safety (the <c>moderate</c> task): an image is unsafe when a class's probability is above its threshold.</summary>
public sealed class ModerationOptions
{
    /// <summary>The content-safety classifier used when a request names none (a classify model with Porn, Hentai and Sexy classes).</summary>
    public string Model { get; init; } = "nsfw-mobilenet-v2";

    /// <summary>Porn above this is unsafe.</summary>
    public float PornThreshold { get; init; } = 0.5f;

    /// <summary>Hentai (explicit drawings) above this is unsafe.</summary>
    public float HentaiThreshold { get; init; } = 0.5f;

    /// <summary>Sexy (suggestive, not explicit) above this is unsafe; 1 never flags it.</summary>
    public float SexyThreshold { get; init; } = 0.8f;
}

public sealed class FacesOptions
{
    /// <summary>The face detector used when a request names none.</summary>
    public string Model { get; init; } = "ultraface-rfb-320";

    /// <summary>UltraFace's authors keep faces scoring above 0.7.</summary>
    public float MinConfidence { get; init; } = 0.7f;
    public int MaxFaces { get; init; } = 100;

    /// <summary>The face descriptor model of face-embed and recognition (a <c>face-embed</c> manifest).</summary>
    public string EmbedModel { get; init; } = "faceres";

    /// <summary>
    /// A face is a known person when its cosine similarity to one of their registered faces reaches this (README, "Face
    /// recognition": calibrated on the test photos, same person ≥ 0.78, different people ≤ 0.61).
    /// </summary>
    public float RecognitionThreshold { get; init; } = 0.7f;
}

public sealed class InfoOptions
{
    /// <summary>Below this variance of the Laplacian an image is reported as blurry.</summary>
    public double BlurThreshold { get; init; } = 100;

    /// <summary>How many dominant colours to report.</summary>
    public int PaletteSize { get; init; } = 5;
}

public sealed class AnalyzeOptions
{
    /// <summary>The tasks run when a request names none, comma-separated.</summary>
    public string DefaultTasks { get; init; } = "detect,faces,info";

    /// <summary>Model tasks allowed to run at once within one request. Each ONNX run already uses every core, so 1 avoids oversubscription.</summary>
    public int MaxParallelModelTasks { get; init; } = 1;
}

public sealed class OcrOptions
{
    /// <summary>The OCR model used when a request names none.</summary>
    public string Model { get; init; } = "ppocr-v4";

    /// <summary>Lines read with less confidence are dropped (PaddleOCR's drop_score).</summary>
    public float MinConfidence { get; init; } = 0.5f;
}

public sealed class LogOptions
{
    /// <summary>json (one JSON object per line) or text.</summary>
    public string Format { get; init; } = "json";

    /// <summary>Verbose, Debug, Information, Warning, Error or Fatal.</summary>
    public string Level { get; init; } = "Information";
}

public sealed class MetricsOptions
{
    /// <summary>Serve Prometheus metrics (Iris's own, ASP.NET Core's and the .NET runtime's) at <see cref="Path"/>.</summary>
    public bool Enabled { get; init; } = true;

    public string Path { get; init; } = "/metrics";

    /// <summary>
    /// How long the gauges read from the job queue, the job store and the disks (queue depth, oldest job age, webhook
    /// outbox, data directory space) reuse one reading: scrapes more frequent than this cost no queries.
    /// </summary>
    public int GaugeCacheSeconds { get; init; } = 5;

    /// <summary>
    /// Where <c>iris worker</c> serves <see cref="Path"/> (and <c>/healthz</c>), e.g. <c>http://0.0.0.0:9464</c>;
    /// empty (the default): a worker serves nothing and its jobs and model runs are seen only in traces.
    /// </summary>
    public string WorkerUrls { get; init; } = "";

    /// <summary>When set, <see cref="Path"/> answers only <c>Authorization: Bearer</c> this key (the captioning service's METRICS_API_KEY); empty leaves it open.</summary>
    public string ApiKey { get; init; } = "";
}

/// <summary>Cross-origin requests from browsers (the captioning service's ORIGINS).</summary>
public sealed class CrossOriginOptions
{
    /// <summary>Comma-separated origins (<c>https://app.example.com</c>) browsers may call Iris from, or <c>*</c> for any; empty sends no CORS headers.</summary>
    public string Origins { get; init; } = "";

    public IReadOnlyList<string> OriginList =>
        Origins.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

public sealed class AuthOptions
{
    /// <summary>
    /// Owner → API key (or <c>sha256:HEX</c> of it), e.g. <c>IRIS__Auth__ApiKeys__alice=…</c>. Any key, or JWT validation,
    /// makes every route except the probes, /metrics and the API reference require a caller.
    /// </summary>
    public Dictionary<string, string> ApiKeys { get; init; } = new();

    public JwtOptions Jwt { get; init; } = new();

    /// <summary>
    /// Owners are namespaced by credential kind (<c>key:alice</c>, <c>jwt:alice</c>) unless this is true, in which case an
    /// API key named alice and a token with <c>sub=alice</c> are one caller and see each other's jobs.
    /// </summary>
    public bool SharedOwnerNamespace { get; init; }
}

public sealed class JwtOptions
{
    /// <summary>An OpenID Connect issuer whose published keys sign the tokens (RS256/ES256), e.g. https://login.example.com/realms/iris.</summary>
    public string Authority { get; init; } = "";

    /// <summary>A shared HS256 key, base64, for tokens minted by a system you run. Either this or Authority turns JWT on.</summary>
    public string SigningKey { get; init; } = "";

    /// <summary>Required <c>iss</c>; empty skips the check (Authority checks it anyway).</summary>
    public string Issuer { get; init; } = "";

    /// <summary>Required <c>aud</c>; empty skips the check.</summary>
    public string Audience { get; init; } = "";

    /// <summary>
    /// The claim that names the caller (the owner of its jobs). A dotted path reads inside an object claim:
    /// <c>user.user_uid</c> for tokens minted like seed 004's auth service (<c>{"user": {"user_uid": …}}</c>).
    /// </summary>
    public string OwnerClaim { get; init; } = "sub";

    /// <summary>
    /// Comma-separated <c>claim=value</c> pairs, any of which marks a refresh token, which is refused: refresh tokens
    /// only buy new access tokens. Values compare case-insensitively; a claim may be a dotted path. Empty accepts any.
    /// </summary>
    public string RefreshTokenClaims { get; init; } = "refresh=true,token_type=refresh,type=refresh,typ=refresh";

    /// <summary>
    /// <c>none</c>, or <c>redis</c>: a token whose <c>jti</c> is a key in Redis (after <see cref="RevocationKeyPrefix"/>)
    /// is refused on the next request. Every request with a token reads Redis (nothing is cached); while Redis cannot
    /// be read, requests with a token get 503 (fail closed), and a token without a <c>jti</c> is refused.
    /// </summary>
    public string RevocationStore { get; init; } = "none";

    /// <summary>Prefix of the blocklist keys; empty (the default) reads bare <c>jti</c> keys, as seed 004's auth service writes them.</summary>
    public string RevocationKeyPrefix { get; init; } = "";

    /// <summary>The blocklist's Redis (a StackExchange.Redis connection string or a redis:// URL); empty uses Jobs:Redis:ConnectionString.</summary>
    public string RevocationConnectionString { get; init; } = "";

    public bool Enabled => Authority.Length > 0 || SigningKey.Length > 0;

    /// <summary>The parsed <see cref="RefreshTokenClaims"/>.</summary>
    public IReadOnlyList<(string Claim, string Value)> RefreshTokenMarkers =>
        RefreshTokenClaims.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(pair => pair.Split('=', 2, StringSplitOptions.TrimEntries))
            .Select(parts => (parts[0], parts.Length > 1 ? parts[1] : ""))
            .ToList();
}

public sealed class RateLimitOptions
{
    /// <summary>Requests a minute per caller (per client address without auth); 0 is no limit.</summary>
    public int PermitsPerMinute { get; init; }

    /// <summary>Requests a caller may make at once before the per-minute rate applies; 0 means PermitsPerMinute.</summary>
    public int Burst { get; init; }

    /// <summary>
    /// <c>memory</c>: each Iris process counts on its own. <c>redis</c>: every process sharing the Redis shares each
    /// caller's limit (one GCRA key per caller, updated by an atomic script); while Redis cannot be reached, requests are
    /// let through (fail open) with a logged warning and <c>iris_security_store_failures_total</c>.
    /// </summary>
    public string Store { get; init; } = "memory";

    /// <summary>Prefix of the per-caller keys in Redis.</summary>
    public string KeyPrefix { get; init; } = "iris:ratelimit:";

    /// <summary>The Redis for Store=redis (a StackExchange.Redis connection string or a redis:// URL); empty uses Jobs:Redis:ConnectionString.</summary>
    public string ConnectionString { get; init; } = "";
}

public sealed class TracingOptions
{
    /// <summary>
    /// Where spans go over OTLP: for http/protobuf the traces URL (e.g. http://collector:4318/v1/traces), for grpc the
    /// collector (http://collector:4317). Empty sends none.
    /// </summary>
    public string OtlpEndpoint { get; init; } = "";

    /// <summary><c>http/protobuf</c> or <c>grpc</c>.</summary>
    public string Protocol { get; init; } = "http/protobuf";

    /// <summary>Share of traces kept, 0–1 (a request's parent decision wins when it carries one).</summary>
    public double SampleRatio { get; init; } = 1.0;
}

public sealed class CaptioningOptions
{
    /// <summary>The captioner used when a request names none.</summary>
    public string Model { get; init; } = "flower-captioner-tiny";

    /// <summary>The largest max_new_tokens a request may ask for.</summary>
    public int MaxNewTokensLimit { get; init; } = 128;

    /// <summary>The largest num_beams a request may ask for.</summary>
    public int MaxBeams { get; init; } = 8;
}

public sealed class EmbeddingsOptions
{
    /// <summary>The embedding model (CLIP) used when a request names none.</summary>
    public string Model { get; init; } = "clip-tiny";

    /// <summary>The longest text /v1/embed accepts, in characters (the tokenizer truncates to the model's length anyway).</summary>
    public int MaxTextLength { get; init; } = 2000;
}

public sealed class TransformsOptions
{
    /// <summary>Largest width × height any step may produce.</summary>
    public long MaxOutputPixels { get; init; } = 40_000_000;

    /// <summary>Most operations in one ops string.</summary>
    public int MaxPipelineLength { get; init; } = 16;

    /// <summary>Time limit for decoding, processing and encoding one image.</summary>
    public int TimeBudgetMs { get; init; } = 30_000;

    /// <summary>Most frames (pages) an animated or multi-page source may declare.</summary>
    public int MaxFrames { get; init; } = 256;

    /// <summary>Quality when the pipeline names none (JPEG, WebP, HEIF; AVIF uses at most 60).</summary>
    public int DefaultQuality { get; init; } = 80;

    /// <summary>Transforms running at once; more wait. 0 = one per core.</summary>
    public int MaxConcurrent { get; init; }

    /// <summary>Hex HMAC key for /v1/img URL signatures (imgproxy's IMGPROXY_KEY).</summary>
    public string SigningKey { get; init; } = "";

    /// <summary>Hex salt prepended to the signed path (imgproxy's IMGPROXY_SALT).</summary>
    public string SigningSalt { get; init; } = "";

    /// <summary>Serve /v1/img URLs without checking their signature. Only for development.</summary>
    public bool AllowUnsigned { get; init; }

    /// <summary>Where /v1/img results are cached on disk.</summary>
    public string CacheDirectory { get; init; } = "data/transform-cache";

    /// <summary>Size bound of the result cache; least recently used results are evicted past it. 0 disables the cache.</summary>
    public long CacheMaxBytes { get; init; } = 1_073_741_824;

    /// <summary>max-age of /v1/img responses' Cache-Control.</summary>
    public int CacheMaxAgeSeconds { get; init; } = 86_400;

    /// <summary>Most images × pipelines in one /api/v1/batch request.</summary>
    public int MaxBatchItems { get; init; } = 16;

    /// <summary>Where imgproxy-format URLs are served (the endpoint imgproxy clients are configured with). Empty turns them off.</summary>
    public string ImgproxyPrefix { get; init; } = "/imgproxy";

    /// <summary>Bytes of the HMAC kept in imgproxy-format signatures (imgproxy's IMGPROXY_SIGNATURE_SIZE), 1–32.</summary>
    public int SignatureSize { get; init; } = 32;

    /// <summary>imgproxy presets: name → processing options, e.g. <c>"thumb": "rs:fill:300:300/q:80"</c>; <c>default</c> applies to every URL.</summary>
    public Dictionary<string, string> ImgproxyPresets { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Directory that imgproxy-format <c>local:///path</c> sources are read from; empty = local sources off.</summary>
    public string LocalRoot { get; init; } = "";
}

public sealed class StorageOptions
{
    /// <summary>Where uploaded images (POST /api/v1/upload) are stored.</summary>
    public string Directory { get; init; } = "data/blobs";

    /// <summary><c>local</c> (Storage:Directory and Jobs:InputDirectory on disk) or <c>s3</c> (stored images and job inputs in Storage:S3's bucket).</summary>
    public string Provider { get; init; } = "local";

    public S3Options S3 { get; init; } = new();
}

/// <summary>An S3-compatible bucket (AWS, MinIO, Ceph, R2) for Storage:Provider=s3.</summary>
public sealed class S3Options
{
    /// <summary>Endpoint such as http://minio:9000; empty = AWS S3 (endpoint from Region).</summary>
    public string ServiceUrl { get; init; } = "";

    /// <summary>Signing region; empty = the SDK's default (AWS_REGION) for AWS, us-east-1 for other endpoints.</summary>
    public string Region { get; init; } = "";

    public string Bucket { get; init; } = "";

    /// <summary>Prepended to every key (e.g. <c>iris/</c>); images go under <c>images/</c> and job inputs under <c>job-inputs/</c> after it.</summary>
    public string Prefix { get; init; } = "";

    /// <summary>With SecretKey; both empty = the SDK's default credential chain (AWS_ACCESS_KEY_ID, profile, instance or pod role).</summary>
    public string AccessKey { get; init; } = "";

    public string SecretKey { get; init; } = "";

    /// <summary>Path-style URLs (host/bucket/key); unset = true when ServiceUrl is set, false for AWS.</summary>
    public bool? ForcePathStyle { get; init; }

    /// <summary>Per request attempt.</summary>
    public int TimeoutSeconds { get; init; } = 30;

    /// <summary>Retries of a failed request (the SDK's standard mode, with backoff).</summary>
    public int MaxRetries { get; init; } = 3;
}

public sealed class SourcesOptions
{
    /// <summary>Comma-separated hosts /v1/img may fetch URLs from (<c>*.example.com</c> for subdomains); empty = any public host.</summary>
    public string AllowedHosts { get; init; } = "";

    /// <summary>Fetch from loopback, private (RFC 1918), link-local and unique-local addresses. Off: that is how SSRF reaches internal services.</summary>
    public bool AllowPrivateNetworks { get; init; }

    public int TimeoutMs { get; init; } = 10_000;

    public int MaxRedirects { get; init; } = 3;

    public IReadOnlyList<string> AllowedHostList =>
        AllowedHosts.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

public sealed class UiOptions
{
    /// <summary>Serve the built-in web UI at <c>/ui</c> (and redirect <c>/</c> to it) from <c>iris serve</c>.</summary>
    public bool Enabled { get; init; } = true;
}

/// <summary>The classifier service's route (seed 004) and its saved predictions.</summary>
public sealed class PredictionsOptions
{
    /// <summary>The classifier POST /api/v1/inference/predict runs (e.g. your own model with its class map); empty = Classification:Model.</summary>
    public string Model { get; init; } = "";
}
