using Iris.Configuration;
using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace Iris.Hosting;

/// <summary>Serilog set-up: one JSON object per line (or plain text), with the request id on every request's lines.</summary>
public static class Logs
{
    public static LoggerConfiguration Configure(LoggerConfiguration logger, LogOptions options, bool toStandardError = false)
    {
        var level = Enum.Parse<LogEventLevel>(options.Level, ignoreCase: true);
        logger
            .MinimumLevel.Is(level)
            // The request-logging middleware writes the one line per request that matters.
            .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
            // Start-up lines ("Now listening on") are worth keeping, unless the configured level asks for less.
            .MinimumLevel.Override("Microsoft.Hosting.Lifetime", level > LogEventLevel.Information ? level : LogEventLevel.Information)
            .Enrich.FromLogContext();
        var standardErrorFrom = toStandardError ? LogEventLevel.Verbose : (LogEventLevel?)null;
        return options.Format.Equals("json", StringComparison.OrdinalIgnoreCase)
            ? logger.WriteTo.Console(new RenderedCompactJsonFormatter(), standardErrorFromLevel: standardErrorFrom)
            : logger.WriteTo.Console(outputTemplate: "{Timestamp:HH:mm:ss} {Level:u3} {Message:lj}{NewLine}{Exception}", standardErrorFromLevel: standardErrorFrom);
    }
}
