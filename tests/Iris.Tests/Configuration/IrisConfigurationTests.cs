using Iris.Configuration;
using Iris.Tests.Support;

namespace Iris.Tests.Configuration;

public class IrisConfigurationTests
{
    private static IrisOptions Load(params (string Key, string? Value)[] values) =>
        IrisConfiguration.Load(IrisConfiguration.Build(overrides: values.Select(v => KeyValuePair.Create(v.Key, v.Value))));

    [Fact]
    public void Defaults_are_valid_and_match_the_documented_values()
    {
        var options = Load();
        Assert.Equal("http://127.0.0.1:8080", options.Server.Urls);
        Assert.Equal(20_000_000, options.Images.MaxBytes);
        Assert.Equal(40_000_000, options.Images.MaxPixels);
        Assert.Equal(0.4f, options.Detection.MinConfidence);
        Assert.Equal(["auto"], options.Models.EnabledModels);
        Assert.Equal(["yolox-nano", "ultraface-rfb-320", "petal-color", "ppocr-v4", "flower-captioner-tiny", "clip-tiny"], ServedModels.Of(options));
    }

    [Theory]
    [InlineData("Images:MaxBytes", "0")]
    [InlineData("Images:MaxPixels", "-5")]
    [InlineData("Detection:MinConfidence", "1.5")]
    [InlineData("Inference:GraphOptimization", "turbo")]
    [InlineData("Log:Format", "xml")]
    [InlineData("Server:Urls", "ftp://127.0.0.1:21")]
    [InlineData("Models:Mirror", "/no/such/mirror")]
    [InlineData("Metrics:Path", "metrics")]
    [InlineData("Tracing:OtlpEndpoint", "collector:4318")]
    [InlineData("Tracing:SampleRatio", "1.5")]
    [InlineData("Auth:ApiKeys:alice", "short")]
    [InlineData("Auth:Jwt:SigningKey", "bm90LWVub3VnaA==")]
    [InlineData("Auth:Jwt:Authority", "http://login.example.com")]
    [InlineData("RateLimit:PermitsPerMinute", "-1")]
    [InlineData("RateLimit:Store", "postgres")]
    [InlineData("Auth:Jwt:RevocationStore", "memcached")]
    [InlineData("Auth:Jwt:RevocationStore", "redis")]
    [InlineData("Auth:Jwt:RefreshTokenClaims", "refresh")]
    [InlineData("Captioning:MaxBeams", "0")]
    [InlineData("Server:MaxImageRequests", "-2")]
    public void An_out_of_range_value_is_rejected_with_a_message_naming_the_key(string key, string value)
    {
        var error = Assert.Throws<InvalidConfigurationException>(() => Load((key, value)));
        Assert.Contains(key, error.Message);
    }

    [Fact]
    public void Unsigned_image_urls_are_refused_together_with_access_control()
    {
        var error = Assert.Throws<InvalidConfigurationException>(() => Load(("Transforms:AllowUnsigned", "true"), ("Auth:ApiKeys:alice", "alice-key-0123456789")));
        Assert.Contains("Transforms:AllowUnsigned cannot be combined with access control", error.Message);
        Assert.True(Load(("Transforms:AllowUnsigned", "true")).Transforms.AllowUnsigned);
    }

    [Fact]
    public void A_value_of_the_wrong_type_is_rejected_with_a_message_naming_the_key()
    {
        var error = Assert.Throws<InvalidConfigurationException>(() => Load(("Images:MaxBytes", "twenty megabytes")));
        Assert.Contains("Images:MaxBytes", error.Message);
    }

    [Fact]
    public void Environment_variables_with_the_IRIS_prefix_and_double_underscores_override_defaults()
    {
        Environment.SetEnvironmentVariable("IRIS__Detection__MaxDetections", "7");
        try
        {
            Assert.Equal(7, Load().Detection.MaxDetections);
        }
        finally
        {
            Environment.SetEnvironmentVariable("IRIS__Detection__MaxDetections", null);
        }
    }

    [Fact]
    public async Task Serve_with_an_invalid_environment_value_stops_at_start_up_naming_the_key()
    {
        var outcome = await IrisProcess.RunAsync(["serve", "--urls", "http://127.0.0.1:0"],
            new Dictionary<string, string> { ["IRIS__Images__MaxPixels"] = "lots" });
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("Images:MaxPixels", outcome.StandardError);
    }

    [Fact]
    public async Task Serve_with_an_invalid_flag_value_stops_at_start_up_naming_the_key()
    {
        var outcome = await IrisProcess.RunAsync(["serve", "--set", "Detection:MinConfidence=3"]);
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("Detection:MinConfidence", outcome.StandardError);
    }
}
