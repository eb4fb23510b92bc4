using System.Text.RegularExpressions;
using Iris.Core.Storage;

namespace Iris.Configuration;

/// <summary>Validation of <c>Storage:Provider</c> and <c>Storage:S3</c>, and their translation into <see cref="S3StorageSettings"/>.</summary>
public static partial class StorageConfiguration
{
    public static bool UsesS3(this StorageOptions o) => o.Provider.Equals("s3", StringComparison.OrdinalIgnoreCase);

    public static void Validate(StorageOptions o, List<string> errors)
    {
        static string Where(string key) => $"set it in appsettings.json or as IRIS__{key.Replace(":", "__")}";
        if (!o.Provider.Equals("local", StringComparison.OrdinalIgnoreCase) && !o.UsesS3())
            errors.Add($"Storage:Provider must be one of local, s3; got '{o.Provider}' ({Where("Storage:Provider")}).");
        if (!o.UsesS3()) return;

        var s3 = o.S3;
        if (!BucketName().IsMatch(s3.Bucket))
            errors.Add($"Storage:S3:Bucket must name an existing bucket (3-63 lowercase letters, digits, dots and hyphens) when Storage:Provider is s3; got '{s3.Bucket}' ({Where("Storage:S3:Bucket")}).");
        if (s3.ServiceUrl.Length > 0 && (!Uri.TryCreate(s3.ServiceUrl, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https")))
            errors.Add($"Storage:S3:ServiceUrl must be an http(s) URL such as http://minio:9000, or empty for AWS S3; got '{s3.ServiceUrl}'.");
        if (s3.Region.Length > 0 && !RegionName().IsMatch(s3.Region))
            errors.Add($"Storage:S3:Region must be a region name such as us-east-1 or eu-central-1; got '{s3.Region}'.");
        if (s3.Prefix.StartsWith('/') || s3.Prefix.Contains("//") || s3.Prefix.Length > 512)
            errors.Add($"Storage:S3:Prefix must be a key prefix such as iris/ (no leading slash, no empty segments, at most 512 characters); got '{s3.Prefix}'.");
        if (s3.AccessKey.Length == 0 != (s3.SecretKey.Length == 0))
            errors.Add("Storage:S3:AccessKey and Storage:S3:SecretKey must be set together, or both left empty to use the SDK's default credential chain.");
        if (s3.TimeoutSeconds is < 1 or > 3600)
            errors.Add($"Storage:S3:TimeoutSeconds must be between 1 and 3600; got {s3.TimeoutSeconds} ({Where("Storage:S3:TimeoutSeconds")}).");
        if (s3.MaxRetries is < 0 or > 20)
            errors.Add($"Storage:S3:MaxRetries must be between 0 and 20; got {s3.MaxRetries} ({Where("Storage:S3:MaxRetries")}).");
    }

    public static S3StorageSettings S3Settings(this StorageOptions o)
    {
        static string? Blank(string value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
        var s3 = o.S3;
        var serviceUrl = Blank(s3.ServiceUrl);
        return new S3StorageSettings(serviceUrl, Blank(s3.Region), s3.Bucket, s3.Prefix, Blank(s3.AccessKey), Blank(s3.SecretKey),
            s3.ForcePathStyle ?? serviceUrl is not null, TimeSpan.FromSeconds(s3.TimeoutSeconds), s3.MaxRetries);
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]
    private static partial Regex BucketName();

    [GeneratedRegex("^[a-z]{2}(-[a-z0-9]+)+$|^auto$")]
    private static partial Regex RegionName();
}
