using Iris.Configuration;
using Iris.Tests.Support;

namespace Iris.Tests.Cli;

public sealed class WorkerCommandTests
{
    [Fact]
    public async Task Worker_help_describes_the_command_and_its_concurrency()
    {
        var outcome = await IrisProcess.RunAsync(["worker", "--help"]);
        Assert.Equal(0, outcome.ExitCode);
        Assert.Contains("--concurrency", outcome.StandardOutput);
        Assert.Contains("Jobs:Queue", outcome.StandardOutput);
    }

    [Fact]
    public async Task Embedded_queue_with_a_postgres_store_is_refused_naming_the_keys()
    {
        var outcome = await IrisProcess.RunAsync(["worker", "--set", "Jobs:Store=postgres"]);
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("Jobs:Queue=embedded", outcome.StandardError);
    }

    [Theory]
    [InlineData("Jobs:Queue", "sqs", "Jobs:Queue must be one of embedded, redis, rabbitmq, kafka")]
    [InlineData("Jobs:MaxAttempts", "0", "Jobs:MaxAttempts must be between 1 and 100")]
    [InlineData("Jobs:TaskConcurrency", "describe", "Jobs:TaskConcurrency must look like")]
    [InlineData("Jobs:LeaseSeconds", "0", "Jobs:LeaseSeconds must be between 1")]
    [InlineData("Jobs:Retention", "a week", "Jobs:Retention must be a duration such as 7.00:00:00")]
    [InlineData("Jobs:Retention", "-1.00:00:00", "Jobs:Retention must be a duration")]
    [InlineData("Jobs:RetentionSweepInterval", "0", "Jobs:RetentionSweepInterval must be a positive duration")]
    [InlineData("Jobs:RetentionSweepInterval", "often", "Jobs:RetentionSweepInterval must be a positive duration")]
    public void Bad_job_settings_are_reported_by_key(string key, string value, string message)
    {
        var configuration = IrisConfiguration.Build(overrides: new Dictionary<string, string?> { [key] = value });
        var error = Assert.Throws<InvalidConfigurationException>(() => IrisConfiguration.Load(configuration));
        Assert.Contains(error.Errors, e => e.Contains(message));
    }

    [Fact]
    public void Job_settings_come_from_the_options_tree()
    {
        var configuration = IrisConfiguration.Build(overrides: new Dictionary<string, string?>
        {
            ["Jobs:MaxAttempts"] = "5", ["Jobs:RetryBaseDelaySeconds"] = "0.5", ["Jobs:TaskConcurrency"] = "describe=1, detect=2",
        });
        var settings = IrisConfiguration.Load(configuration).Jobs.Settings();
        Assert.Equal(5, settings.MaxAttempts);
        Assert.Equal(TimeSpan.FromSeconds(1), settings.RetryDelay(2));
        Assert.Equal(TimeSpan.FromSeconds(2), settings.RetryDelay(3));
        Assert.Equal(1, settings.TaskConcurrency["describe"]);
        Assert.Equal(2, settings.TaskConcurrency["detect"]);
    }

    [Theory]
    [InlineData(null, 7 * 24 * 3600)]
    [InlineData("00:00:03", 3)]
    [InlineData("1.12:00:00", 36 * 3600)]
    [InlineData("0", 0)]
    [InlineData("", 0)]
    public void Retention_defaults_to_a_week_and_zero_or_empty_keeps_jobs_forever(string? value, int seconds)
    {
        var overrides = new Dictionary<string, string?>();
        if (value is not null) overrides["Jobs:Retention"] = value;
        var settings = IrisConfiguration.Load(IrisConfiguration.Build(overrides: overrides)).Jobs.Settings();
        Assert.Equal(TimeSpan.FromSeconds(seconds), settings.Retention);
        Assert.Equal(TimeSpan.FromMinutes(10), settings.RetentionSweepInterval);
    }

    [Fact]
    public async Task Bad_retention_exits_with_code_2_naming_the_key()
    {
        var outcome = await IrisProcess.RunAsync(["worker", "--set", "Jobs:Retention=soon"]);
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("Jobs:Retention", outcome.StandardError);
    }
}
