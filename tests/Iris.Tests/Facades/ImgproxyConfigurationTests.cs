using Iris.Configuration;

namespace Iris.Tests.Facades;

public class ImgproxyConfigurationTests
{
    /// <summary>Later values win, as in configuration itself.</summary>
    private static IrisOptions Load(params (string Key, string Value)[] values) =>
        IrisConfiguration.Load(IrisConfiguration.Build(overrides: values.Select(v => KeyValuePair.Create(v.Key, (string?)v.Value))
            .GroupBy(p => p.Key).Select(g => g.Last())));

    [Fact]
    public void Several_key_salt_pairs_are_accepted_when_they_pair_up()
    {
        var options = Load(("Transforms:SigningKey", "aa01, bb02"), ("Transforms:SigningSalt", "cc03, dd04"));
        Assert.Equal("aa01, bb02", options.Transforms.SigningKey);
    }

    [Theory]
    [InlineData("Transforms:SigningSalt", "cc03")]
    [InlineData("Transforms:SignatureSize", "0")]
    [InlineData("Transforms:SignatureSize", "33")]
    [InlineData("Transforms:ImgproxyPrefix", "imgproxy")]
    [InlineData("Transforms:ImgproxyPrefix", "/imgproxy/")]
    public void A_bad_imgproxy_setting_is_refused_naming_it(string key, string value)
    {
        var error = Assert.Throws<InvalidConfigurationException>(() =>
            Load(("Transforms:SigningKey", "aa01,bb02"), ("Transforms:SigningSalt", "cc03,dd04"), (key, value)));
        Assert.Contains(key, error.Message);
    }

    [Fact]
    public void Presets_and_the_local_root_bind_from_configuration()
    {
        var options = Load(("Transforms:ImgproxyPresets:thumb", "rs:fill:100:100"), ("Transforms:LocalRoot", "/srv/images"));
        Assert.Equal("rs:fill:100:100", options.Transforms.ImgproxyPresets["thumb"]);
        Assert.Equal("/srv/images", options.Transforms.LocalRoot);
    }
}
