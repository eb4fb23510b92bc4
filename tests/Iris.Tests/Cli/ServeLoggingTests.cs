using Iris.Tests.Jobs;
using Iris.Tests.Support;

namespace Iris.Tests.Cli;

public sealed class ServeLoggingTests
{
    [Theory]
    [InlineData("Information", true)]
    [InlineData("Warning", false)]
    public async Task Start_up_lines_follow_the_configured_log_level(string level, bool expectsStartupLine)
    {
        using var data = new TempDirectory();
        var url = $"http://127.0.0.1:{JobCrashSafetyTests.FreePort()}";
        await using var serve = IrisDaemon.Start(["serve", "--set", "Models:LoadOnStartup=false", "--set", "Models:Enabled="], new Dictionary<string, string>
        {
            ["IRIS__Server__Urls"] = url,
            ["IRIS__Log__Level"] = level,
            ["IRIS__Log__Format"] = "text",
            ["IRIS__Jobs__Database"] = data.File("jobs.db"),
            ["IRIS__Jobs__InputDirectory"] = data.File("inputs"),
            ["IRIS__Models__CacheDirectory"] = data.File("models"),
        });
        using var client = new HttpClient { BaseAddress = new Uri(url) };
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (true)
        {
            try
            {
                if ((await client.GetAsync("/healthz")).IsSuccessStatusCode) break;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
            }
            await Task.Delay(100);
        }
        Assert.Equal(0, await serve.StopAsync(TimeSpan.FromSeconds(30)));
        // "Now listening on" is Microsoft.Hosting.Lifetime's: a server told to log warnings only prints nothing at start.
        Assert.Equal(expectsStartupLine, serve.Lines.Any(l => l.Contains("Now listening", StringComparison.Ordinal)));
    }
}
