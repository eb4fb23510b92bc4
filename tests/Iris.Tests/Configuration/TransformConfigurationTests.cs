using Iris.Configuration;

namespace Iris.Tests.Configuration;

public class TransformConfigurationTests
{
    private static IrisOptions Load(params (string Key, string? Value)[] values) =>
        IrisConfiguration.Load(IrisConfiguration.Build(overrides: values.Select(v => KeyValuePair.Create(v.Key, v.Value))));

    [Fact]
    public void Transform_defaults_are_valid_and_match_the_documented_values()
    {
        var options = Load();
        Assert.Equal((40_000_000L, 16, 30_000, 256, 80), (options.Transforms.MaxOutputPixels, options.Transforms.MaxPipelineLength,
            options.Transforms.TimeBudgetMs, options.Transforms.MaxFrames, options.Transforms.DefaultQuality));
        Assert.Equal((1_073_741_824L, 86_400, 16, false), (options.Transforms.CacheMaxBytes, options.Transforms.CacheMaxAgeSeconds,
            options.Transforms.MaxBatchItems, options.Transforms.AllowUnsigned));
        Assert.Equal(("data/blobs", false, 10_000), (options.Storage.Directory, options.Sources.AllowPrivateNetworks, options.Sources.TimeoutMs));
        Assert.Empty(options.Sources.AllowedHostList);
    }

    [Theory]
    [InlineData("Transforms:MaxOutputPixels", "0")]
    [InlineData("Transforms:MaxPipelineLength", "0")]
    [InlineData("Transforms:TimeBudgetMs", "-1")]
    [InlineData("Transforms:DefaultQuality", "101")]
    [InlineData("Transforms:SigningKey", "not-hex!")]
    [InlineData("Sources:TimeoutMs", "0")]
    [InlineData("Storage:Directory", " ")]
    public void An_invalid_transform_setting_is_rejected_naming_the_key(string key, string value)
    {
        var error = Assert.Throws<InvalidConfigurationException>(() => Load((key, value)));
        Assert.Contains(key, error.Message);
    }

    [Fact]
    public void Signing_key_and_salt_must_be_set_together()
    {
        var error = Assert.Throws<InvalidConfigurationException>(() => Load(("Transforms:SigningKey", "abcd")));
        Assert.Contains("Transforms:SigningSalt", error.Message);
    }

    [Fact]
    public void Allowed_hosts_are_a_comma_separated_list_with_wildcard_subdomains()
    {
        var options = Load(("Sources:AllowedHosts", "images.example.com, *.cdn.example.org"));
        var policy = options.RemoteSourcePolicy();
        Assert.True(policy.HostAllowed("images.example.com"));
        Assert.True(policy.HostAllowed("a.cdn.example.org"));
        Assert.False(policy.HostAllowed("example.com"));
        Assert.False(policy.HostAllowed("evil.com"));
    }
}
