using Iris.Configuration;
using Iris.Hosting;
using Serilog;

namespace Iris.Cli;

/// <summary>The domain services for a one-shot CLI command, logging warnings to standard error only.</summary>
public static class CliServices
{
    public static ServiceProvider Create(IrisOptions options, Action<IServiceCollection>? more = null)
    {
        var services = new ServiceCollection();
        var logOptions = new LogOptions { Format = "text", Level = "Warning" };
        services.AddLogging(l => l.AddSerilog(Logs.Configure(new LoggerConfiguration(), logOptions, toStandardError: true).CreateLogger(), dispose: true));
        services.AddIrisCore(options);
        more?.Invoke(services);
        return services.BuildServiceProvider();
    }
}
