using System.CommandLine;
using Iris.Http;

namespace Iris.Cli;

public static class ServeCommand
{
    public static Command Create()
    {
        var urls = new Option<string?>("--urls") { Description = "Listen URLs, ';'-separated (Server:Urls). Default: http://127.0.0.1:8080." };
        var command = new Command("serve", "Run the Iris HTTP server (REST API, health probes, OpenAPI at /openapi/v1.json, API docs at /docs).");
        command.Options.Add(urls);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var extra = new Dictionary<string, string?>();
            if (parse.GetValue(urls) is { } u) extra["Server:Urls"] = u;
            var (options, configuration) = CommonOptions.Load(parse, extra);
            await using var app = IrisServer.Build(options, configuration);
            await app.RunAsync();
            return 0;
        });
        return command;
    }
}
