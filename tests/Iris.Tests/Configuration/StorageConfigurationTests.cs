using Iris.Configuration;

namespace Iris.Tests.Configuration;

public class StorageConfigurationTests
{
    private static IrisOptions Load(params (string Key, string? Value)[] values) =>
        IrisConfiguration.Load(IrisConfiguration.Build(overrides: values.Select(v => KeyValuePair.Create(v.Key, v.Value))));

    private static readonly (string, string?)[] S3 = [("Storage:Provider", "s3"), ("Storage:S3:Bucket", "iris-images")];

    [Fact]
    public void Storage_defaults_to_local_disk_and_the_s3_defaults_match_the_documented_values()
    {
        var options = Load();
        Assert.Equal("local", options.Storage.Provider);
        Assert.False(options.Storage.UsesS3());
        var s3 = options.Storage.S3;
        Assert.Equal(("", "", "", "", "", "", null, 30, 3),
            (s3.ServiceUrl, s3.Region, s3.Bucket, s3.Prefix, s3.AccessKey, s3.SecretKey, s3.ForcePathStyle, s3.TimeoutSeconds, s3.MaxRetries));
    }

    [Fact]
    public void Path_style_is_the_default_for_other_endpoints_and_virtual_hosts_for_aws()
    {
        var minio = Load([.. S3, ("Storage:S3:ServiceUrl", "http://minio:9000")]).Storage.S3Settings();
        Assert.True(minio.ForcePathStyle);
        Assert.Equal("http://minio:9000", minio.ServiceUrl);
        Assert.Null(minio.AccessKey);
        var aws = Load([.. S3, ("Storage:S3:Region", "eu-central-1")]).Storage.S3Settings();
        Assert.False(aws.ForcePathStyle);
        Assert.Null(aws.ServiceUrl);
        var forced = Load([.. S3, ("Storage:S3:ServiceUrl", "http://minio:9000"), ("Storage:S3:ForcePathStyle", "false")]).Storage.S3Settings();
        Assert.False(forced.ForcePathStyle);
    }

    [Theory]
    [InlineData("Storage:Provider", "gcs")]
    [InlineData("Storage:S3:Bucket", "")]
    [InlineData("Storage:S3:Bucket", "Not_A_Bucket")]
    [InlineData("Storage:S3:ServiceUrl", "minio:9000")]
    [InlineData("Storage:S3:Region", "Frankfurt")]
    [InlineData("Storage:S3:Prefix", "/iris/")]
    [InlineData("Storage:S3:AccessKey", "AKIAONLYTHEKEY")]
    [InlineData("Storage:S3:TimeoutSeconds", "0")]
    [InlineData("Storage:S3:MaxRetries", "-1")]
    [InlineData("Storage:S3:ForcePathStyle", "sometimes")]
    public void An_invalid_storage_setting_is_rejected_naming_the_key(string key, string value)
    {
        var error = Assert.Throws<InvalidConfigurationException>(() => Load([.. S3.Where(s => s.Item1 != key), (key, value)]));
        Assert.Contains(key, error.Message);
    }

    [Fact]
    public void S3_settings_are_not_checked_while_storage_is_local()
    {
        var options = Load(("Storage:S3:Bucket", "Not_A_Bucket"), ("Storage:S3:TimeoutSeconds", "0"));
        Assert.Equal("local", options.Storage.Provider);
    }
}
