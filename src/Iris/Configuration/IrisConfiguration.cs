using Iris.Core.Imaging;
using Iris.Core.Inference;
using Iris.Core.Sources;
using Iris.Core.Transforms;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace Iris.Configuration;

/// <summary>A configuration value that cannot work; the message names the key so the user can fix it.</summary>
public sealed class InvalidConfigurationException(IReadOnlyList<string> errors)
    : Exception("Invalid configuration:\n  " + string.Join("\n  ", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}

public static class IrisConfiguration
{
    public const string EnvironmentPrefix = "IRIS__";

    /// <summary>appsettings.json beside the executable, an optional extra file, IRIS__ environment variables, then flags.</summary>
    public static IConfigurationRoot Build(string? configFile = null, IEnumerable<KeyValuePair<string, string?>>? overrides = null)
    {
        var builder = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true);
        if (configFile is not null)
        {
            if (!File.Exists(configFile))
                throw new InvalidConfigurationException([$"--config: the file '{configFile}' does not exist."]);
            builder.AddJsonFile(Path.GetFullPath(configFile), optional: false);
        }
        builder.AddEnvironmentVariables(EnvironmentPrefix);
        if (overrides is not null)
            builder.AddInMemoryCollection(overrides);
        return builder.Build();
    }

    /// <summary>Binds and validates the options tree; throws <see cref="InvalidConfigurationException"/> naming every bad key.</summary>
    public static IrisOptions Load(IConfiguration configuration)
    {
        IrisOptions options;
        try
        {
            options = configuration.Get<IrisOptions>() ?? new IrisOptions();
        }
        catch (InvalidOperationException e)
        {
            // The binder's message already names the key: "Failed to convert configuration value '…' at 'Images:MaxBytes' to type …".
            throw new InvalidConfigurationException([Describe(e)]);
        }
        var errors = Validate(options);
        if (errors.Count > 0)
            throw new InvalidConfigurationException(errors);
        return options;
    }

    public static List<string> Validate(IrisOptions o)
    {
        var errors = new List<string>();
        void Range(string key, double value, double min, double max)
        {
            if (double.IsNaN(value) || value < min || value > max)
                errors.Add($"{key} must be between {min} and {max}; got {value} (set it in appsettings.json or as {EnvironmentPrefix}{key.Replace(":", "__")}).");
        }
        void OneOf(string key, string value, params string[] allowed)
        {
            if (!allowed.Contains(value, StringComparer.OrdinalIgnoreCase))
                errors.Add($"{key} must be one of {string.Join(", ", allowed)}; got '{value}' (set it in appsettings.json or as {EnvironmentPrefix}{key.Replace(":", "__")}).");
        }

        foreach (var url in o.Server.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            if (!Uri.TryCreate(url.Replace("*", "localhost").Replace("+", "localhost"), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                errors.Add($"Server:Urls contains '{url}', which is not an http(s) URL such as http://127.0.0.1:8080.");
        Range("Server:ShutdownTimeoutSeconds", o.Server.ShutdownTimeoutSeconds, 0, 3600);
        Range("Server:MaxUrlLength", o.Server.MaxUrlLength, 1024, 1_048_576);

        if (string.IsNullOrWhiteSpace(o.Models.CacheDirectory))
            errors.Add("Models:CacheDirectory must not be empty.");
        if (!string.IsNullOrWhiteSpace(o.Models.Mirror) && !Directory.Exists(o.Models.Mirror))
            errors.Add($"Models:Mirror is '{o.Models.Mirror}', which is not an existing directory.");
        Range("Models:DownloadAttempts", o.Models.DownloadAttempts, 1, 100);
        Range("Models:DownloadTimeoutSeconds", o.Models.DownloadTimeoutSeconds, 1, 86_400);
        if (o.Models.Preload is not null && !o.Models.Enabled.Equals(ServedModels.Auto, StringComparison.OrdinalIgnoreCase)
            && !o.Models.Preload.Equals(o.Models.Enabled, StringComparison.OrdinalIgnoreCase))
            errors.Add($"Models:Preload is '{o.Models.Preload}' and Models:Enabled, its older name, is '{o.Models.Enabled}'; set only Models:Preload.");
        if (o.Models.IdleUnloadAfter is { } idle && (idle < TimeSpan.FromSeconds(1) || idle > TimeSpan.FromDays(7)))
            errors.Add($"Models:IdleUnloadAfter must be between 00:00:01 and 7.00:00:00 (hh:mm:ss; 300 s is 00:05:00); got '{idle}'. Leave it unset to keep models loaded.");
        if (!string.IsNullOrWhiteSpace(o.Models.MemoryBudget) && o.Models.MemoryBudgetBytes is null)
            errors.Add($"Models:MemoryBudget must be a positive size such as 2GiB, 512MiB or 1500000000 (bytes); got '{o.Models.MemoryBudget}'. Leave it unset for no limit.");

        Range("Inference:IntraOpThreads", o.Inference.IntraOpThreads, 0, 1024);
        Range("Inference:InterOpThreads", o.Inference.InterOpThreads, 0, 1024);
        Range("Inference:MaxConcurrentRuns", o.Inference.MaxConcurrentRuns, 0, 1024);
        Range("Inference:MaxQueueWaitMs", o.Inference.MaxQueueWaitMs, 0, 600_000);
        Range("Server:MaxImageRequests", o.Server.MaxImageRequests, -1, 100_000);
        OneOf("Inference:GraphOptimization", o.Inference.GraphOptimization, "disabled", "basic", "extended", "all");
        OneOf("Inference:ExecutionMode", o.Inference.ExecutionMode, "sequential", "parallel");
        BatchingOptions.Validate(o.Inference.Batching, errors);

        Range("Images:MaxBytes", o.Images.MaxBytes, 1, 2_000_000_000);
        Range("Images:MaxPixels", o.Images.MaxPixels, 1, 1_000_000_000);
        Range("Images:DecodeTimeoutMs", o.Images.DecodeTimeoutMs, 1, 600_000);
        Range("Images:MaxWidth", o.Images.MaxWidth, 1, 1_000_000);
        Range("Images:MaxHeight", o.Images.MaxHeight, 1, 1_000_000);
        Range("Images:MaxAspectRatio", o.Images.MaxAspectRatio, 1, 1_000_000);
        Range("Images:MaxSvgPixels", o.Images.MaxSvgPixels, 1, 1_000_000_000);
        Range("Images:MaxInFlightPixels", o.Images.MaxInFlightPixels, 0, 1e15);
        Range("Images:AdmissionWaitMs", o.Images.AdmissionWaitMs, 0, 600_000);
        Range("Images:TrimAfterBurstMs", o.Images.TrimAfterBurstMs, 0, 3_600_000);

        if (string.IsNullOrWhiteSpace(o.Detection.Model))
            errors.Add("Detection:Model must name a detection model, e.g. yolox-nano.");
        Range("Detection:MinConfidence", o.Detection.MinConfidence, 0, 1);
        Range("Detection:MaxDetections", o.Detection.MaxDetections, 1, 10_000);

        if (string.IsNullOrWhiteSpace(o.Classification.Model))
            errors.Add("Classification:Model must name a classification model, e.g. petal-color.");
        Range("Classification:TopK", o.Classification.TopK, 1, 1000);
        Range("Classification:MinConfidence", o.Classification.MinConfidence, 0, 1);
        Range("Moderation:PornThreshold", o.Moderation.PornThreshold, 0, 1);
        Range("Moderation:HentaiThreshold", o.Moderation.HentaiThreshold, 0, 1);
        Range("Moderation:SexyThreshold", o.Moderation.SexyThreshold, 0, 1);
        if (string.IsNullOrWhiteSpace(o.Faces.Model))
            errors.Add("Faces:Model must name a face detection model, e.g. ultraface-rfb-320.");
        Range("Faces:MinConfidence", o.Faces.MinConfidence, 0, 1);
        Range("Faces:MaxFaces", o.Faces.MaxFaces, 1, 10_000);
        if (string.IsNullOrWhiteSpace(o.Faces.EmbedModel))
            errors.Add("Faces:EmbedModel must name a face descriptor model, e.g. faceres.");
        Range("Faces:RecognitionThreshold", o.Faces.RecognitionThreshold, 0, 1);
        Range("Info:BlurThreshold", o.Info.BlurThreshold, 0, 1_000_000);
        Range("Info:PaletteSize", o.Info.PaletteSize, 1, 16);
        Range("Analyze:MaxParallelModelTasks", o.Analyze.MaxParallelModelTasks, 1, 64);
        if (string.IsNullOrWhiteSpace(o.Ocr.Model))
            errors.Add("Ocr:Model must name an OCR model, e.g. ppocr-v4.");
        Range("Ocr:MinConfidence", o.Ocr.MinConfidence, 0, 1);
        if (!Uri.TryCreate(o.Models.HubEndpoint, UriKind.Absolute, out var hub) || hub.Scheme is not ("http" or "https"))
            errors.Add($"Models:HubEndpoint must be an http(s) URL such as https://huggingface.co; got '{o.Models.HubEndpoint}'.");
        if (string.IsNullOrWhiteSpace(o.Captioning.Model))
            errors.Add("Captioning:Model must name a describe model, e.g. flower-captioner-tiny.");
        Range("Captioning:MaxNewTokensLimit", o.Captioning.MaxNewTokensLimit, 1, 4096);
        Range("Captioning:MaxBeams", o.Captioning.MaxBeams, 1, 64);
        foreach (var (owner, key) in o.Auth.ApiKeys)
            if (key.StartsWith("sha256:", StringComparison.OrdinalIgnoreCase) ? key.Length != 7 + 64 || !key[7..].All(Uri.IsHexDigit) : key.Length < 16)
                errors.Add($"Auth:ApiKeys:{owner} must be a key of at least 16 characters, or sha256: followed by 64 hex digits.");
        if (o.Auth.Jwt.SigningKey.Length > 0 && !IsBase64Key(o.Auth.Jwt.SigningKey))
            errors.Add("Auth:Jwt:SigningKey must be base64 of at least 32 bytes (HS256).");
        if (o.Auth.Jwt.Authority.Length > 0 && (!Uri.TryCreate(o.Auth.Jwt.Authority, UriKind.Absolute, out var authority) || authority.Scheme != "https"))
            errors.Add($"Auth:Jwt:Authority must be an https URL of an OpenID Connect issuer; got '{o.Auth.Jwt.Authority}'.");
        if (o.RateLimit.PermitsPerMinute < 0 || o.RateLimit.Burst < 0)
            errors.Add("RateLimit:PermitsPerMinute and RateLimit:Burst must be 0 (off) or more.");
        OneOf("RateLimit:Store", o.RateLimit.Store, "memory", "redis");
        OneOf("Auth:Jwt:RevocationStore", o.Auth.Jwt.RevocationStore, "none", "redis");
        if (o.Auth.Jwt.RevocationStore.Equals("redis", StringComparison.OrdinalIgnoreCase) && !o.Auth.Jwt.Enabled)
            errors.Add("Auth:Jwt:RevocationStore is redis but JWT validation is off: set Auth:Jwt:SigningKey or Auth:Jwt:Authority.");
        if (o.Auth.Jwt.RefreshTokenMarkers.Any(m => m.Claim.Length == 0 || m.Value.Length == 0))
            errors.Add($"Auth:Jwt:RefreshTokenClaims must be comma-separated claim=value pairs such as refresh=true,token_type=refresh; got '{o.Auth.Jwt.RefreshTokenClaims}'.");
        if (o.Tracing.OtlpEndpoint.Length > 0 && (!Uri.TryCreate(o.Tracing.OtlpEndpoint, UriKind.Absolute, out var otlp) || otlp.Scheme is not ("http" or "https")))
            errors.Add($"Tracing:OtlpEndpoint must be an absolute http(s) URL, e.g. http://collector:4318/v1/traces; got '{o.Tracing.OtlpEndpoint}'.");
        if (o.Tracing.Protocol is not ("http/protobuf" or "grpc"))
            errors.Add($"Tracing:Protocol must be http/protobuf or grpc; got '{o.Tracing.Protocol}'.");
        if (o.Tracing.SampleRatio is < 0 or > 1 || double.IsNaN(o.Tracing.SampleRatio))
            errors.Add($"Tracing:SampleRatio must be between 0 and 1; got {o.Tracing.SampleRatio}.");
        if (o.Metrics.Enabled && !o.Metrics.Path.StartsWith('/'))
            errors.Add($"Metrics:Path must be a path starting with '/', e.g. /metrics; got '{o.Metrics.Path}'.");
        if (o.Metrics.GaugeCacheSeconds < 0)
            errors.Add($"Metrics:GaugeCacheSeconds must be 0 or more (seconds the queue, outbox and disk gauges reuse a reading); got {o.Metrics.GaugeCacheSeconds}.");
        if (o.Metrics.ApiKey.Any(char.IsWhiteSpace))
            errors.Add("Metrics:ApiKey must not contain spaces: it is sent as 'Authorization: Bearer <key>'.");
        foreach (var origin in o.Cors.OriginList.Where(origin => origin != "*"
                     && !(Uri.TryCreate(origin, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.PathAndQuery == "/" && !origin.EndsWith('/'))))
            errors.Add($"Cors:Origins must list origins such as https://app.example.com (scheme, host and port, no path) or *; got '{origin}'.");
        if (string.IsNullOrWhiteSpace(o.Embeddings.Model))
            errors.Add("Embeddings:Model must name an embed model, e.g. clip-tiny.");
        Range("Embeddings:MaxTextLength", o.Embeddings.MaxTextLength, 1, 1_000_000);
        Range("Transforms:MaxOutputPixels", o.Transforms.MaxOutputPixels, 1, 1_000_000_000);
        Range("Transforms:MaxPipelineLength", o.Transforms.MaxPipelineLength, 1, 1000);
        Range("Transforms:TimeBudgetMs", o.Transforms.TimeBudgetMs, 1, 600_000);
        Range("Transforms:MaxFrames", o.Transforms.MaxFrames, 1, 100_000);
        Range("Transforms:DefaultQuality", o.Transforms.DefaultQuality, 1, 100);
        Range("Transforms:MaxConcurrent", o.Transforms.MaxConcurrent, 0, 1024);
        Range("Transforms:CacheMaxBytes", o.Transforms.CacheMaxBytes, 0, 1e15);
        Range("Transforms:CacheMaxAgeSeconds", o.Transforms.CacheMaxAgeSeconds, 0, 31_536_000);
        Range("Transforms:MaxBatchItems", o.Transforms.MaxBatchItems, 1, 1000);
        // Several comma-separated keys and salts are paired in order, so keys rotate without downtime (as IMGPROXY_KEY/IMGPROXY_SALT).
        foreach (var (key, value) in new[] { ("Transforms:SigningKey", o.Transforms.SigningKey), ("Transforms:SigningSalt", o.Transforms.SigningSalt) })
            if (value.Split(',', StringSplitOptions.TrimEntries).Any(part => part.Length % 2 != 0 || !part.All(char.IsAsciiHexDigit)) && value.Length > 0)
                errors.Add($"{key} must be hex (e.g. from `openssl rand -hex 32`), or several hex values separated by commas; got a value of {value.Length} characters that is not.");
        if (o.Transforms.SigningKey.Split(',', StringSplitOptions.RemoveEmptyEntries).Length != o.Transforms.SigningSalt.Split(',', StringSplitOptions.RemoveEmptyEntries).Length)
            errors.Add("Transforms:SigningKey and Transforms:SigningSalt must be set together, with as many salts as keys (imgproxy's key and salt pairs).");
        // Unsigned /v1/img and iris:// URLs serve any stored image, another caller's library photo included, to anyone
        // who knows its id: access control would promise what this takes away.
        if (o.Transforms.AllowUnsigned && (o.Auth.ApiKeys.Count > 0 || o.Auth.Jwt.Enabled))
            errors.Add("Transforms:AllowUnsigned cannot be combined with access control (Auth:ApiKeys, Auth:Jwt): unsigned URLs serve every stored image to any caller who knows its id. Set Transforms:SigningKey and Transforms:SigningSalt instead.");
        Range("Transforms:SignatureSize", o.Transforms.SignatureSize, 1, 32);
        if (o.Transforms.ImgproxyPrefix.Length > 0 && (!o.Transforms.ImgproxyPrefix.StartsWith('/') || o.Transforms.ImgproxyPrefix.EndsWith('/')))
            errors.Add($"Transforms:ImgproxyPrefix must be a path such as /imgproxy (starting with '/', not ending with it); got '{o.Transforms.ImgproxyPrefix}'.");
        if (string.IsNullOrWhiteSpace(o.Storage.Directory))
            errors.Add("Storage:Directory must not be empty.");
        Range("Sources:TimeoutMs", o.Sources.TimeoutMs, 1, 600_000);
        Range("Sources:MaxRedirects", o.Sources.MaxRedirects, 0, 20);

        OneOf("Log:Format", o.Log.Format, "json", "text");
        OneOf("Log:Level", o.Log.Level, "Verbose", "Debug", "Information", "Warning", "Error", "Fatal");
        JobsConfiguration.Validate(o.Jobs, errors);
        StorageConfiguration.Validate(o.Storage, errors);
        VectorIndexServices.Validate(o.Library, errors);
        return errors;
    }

    public static ImageLimits ImageLimits(this IrisOptions o) =>
        new(o.Images.MaxBytes, o.Images.MaxPixels, TimeSpan.FromMilliseconds(o.Images.DecodeTimeoutMs))
        {
            MaxWidth = o.Images.MaxWidth,
            MaxHeight = o.Images.MaxHeight,
            MaxAspectRatio = o.Images.MaxAspectRatio,
            MaxSvgPixels = o.Images.MaxSvgPixels,
        };

    public static DecodeAdmission CreateDecodeAdmission(this IrisOptions o, ILogger<AfterBurstTrim>? trimLogger = null) => new(
        o.Images.MaxInFlightPixels > 0
            ? o.Images.MaxInFlightPixels
            : DecodeAdmission.BudgetFromMemory(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes, o.Images.MaxPixels),
        TimeSpan.FromMilliseconds(o.Images.AdmissionWaitMs),
        afterBurst: o.Images.TrimAfterBurstMs > 0 ? new AfterBurstTrim(TimeSpan.FromMilliseconds(o.Images.TrimAfterBurstMs), logger: trimLogger) : null);

    public static TransformLimits TransformLimits(this IrisOptions o) => new(
        o.Transforms.MaxOutputPixels, o.Transforms.MaxPipelineLength, TimeSpan.FromMilliseconds(o.Transforms.TimeBudgetMs),
        o.Transforms.MaxFrames, o.Transforms.DefaultQuality, o.Transforms.MaxConcurrent);

    public static RemoteSourcePolicy RemoteSourcePolicy(this IrisOptions o) => new(
        o.Sources.AllowedHostList, o.Sources.AllowPrivateNetworks, TimeSpan.FromMilliseconds(o.Sources.TimeoutMs), o.Images.MaxBytes, o.Sources.MaxRedirects);

    public static InferenceSettings InferenceSettings(this IrisOptions o) => new(
        o.Inference.IntraOpThreads,
        o.Inference.InterOpThreads,
        o.Inference.GraphOptimization.ToLowerInvariant() switch
        {
            "disabled" => GraphOptimizationLevel.ORT_DISABLE_ALL,
            "basic" => GraphOptimizationLevel.ORT_ENABLE_BASIC,
            "extended" => GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
            _ => GraphOptimizationLevel.ORT_ENABLE_ALL,
        },
        o.Inference.ExecutionMode.Equals("parallel", StringComparison.OrdinalIgnoreCase) ? ExecutionMode.ORT_PARALLEL : ExecutionMode.ORT_SEQUENTIAL,
        o.Inference.MaxConcurrentRuns,
        o.Inference.MaxQueueWaitMs > 0 ? TimeSpan.FromMilliseconds(o.Inference.MaxQueueWaitMs) : null,
        o.Inference.Spinning,
        o.Inference.AdaptiveSessions);

    private static string Describe(InvalidOperationException e)
    {
        var message = e.Message;
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
            if (inner.Message.Contains(" at '", StringComparison.Ordinal)) message = inner.Message;
        return message;
    }

    private static bool IsBase64Key(string value)
    {
        var buffer = new byte[value.Length];
        return Convert.TryFromBase64String(value, buffer, out var written) && written >= 32;
    }
}
