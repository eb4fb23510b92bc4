using System.CommandLine;
using Iris.Configuration;

namespace Iris.Cli;

/// <summary>Flags every command accepts; they override appsettings.json and IRIS__ environment variables.</summary>
public static class CommonOptions
{
    public static readonly Option<FileInfo?> Config = new("--config")
    {
        Description = "An extra JSON settings file, applied after appsettings.json and before environment variables.",
        Recursive = true,
    };

    public static readonly Option<string[]> Set = new("--set")
    {
        Description = "Override any option, e.g. --set Images:MaxBytes=5000000 (repeatable). Keys are those of the README's configuration table.",
        Recursive = true,
        AllowMultipleArgumentsPerToken = false,
    };

    public static readonly Option<DirectoryInfo?> Mirror = new("--mirror")
    {
        Description = "A model mirror directory to pull from (Models:Mirror), e.g. ../shared/models.",
        Recursive = true,
    };

    public static readonly Option<DirectoryInfo?> ModelCache = new("--model-cache")
    {
        Description = "Where models are stored (Models:CacheDirectory). Default: data/models.",
        Recursive = true,
    };

    /// <summary>Builds and validates the options tree; a bad value stops the command with a message naming the key.</summary>
    public static (IrisOptions Options, IConfigurationRoot Configuration) Load(ParseResult parse, IDictionary<string, string?>? extra = null)
    {
        var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (parse.GetValue(Mirror) is { } mirror) overrides["Models:Mirror"] = mirror.FullName;
        if (parse.GetValue(ModelCache) is { } cache) overrides["Models:CacheDirectory"] = cache.FullName;
        foreach (var pair in extra ?? new Dictionary<string, string?>())
            overrides[pair.Key] = pair.Value;
        foreach (var assignment in parse.GetValue(Set) ?? [])
        {
            var equals = assignment.IndexOf('=');
            if (equals <= 0)
                throw new InvalidConfigurationException([$"--set '{assignment}' must look like Section:Key=value."]);
            overrides[assignment[..equals].Trim().Replace("__", ":")] = assignment[(equals + 1)..];
        }
        var configuration = IrisConfiguration.Build(parse.GetValue(Config)?.FullName, overrides);
        return (IrisConfiguration.Load(configuration), configuration);
    }

    public static void AddTo(RootCommand root)
    {
        root.Options.Add(Config);
        root.Options.Add(Set);
        root.Options.Add(Mirror);
        root.Options.Add(ModelCache);
    }
}
