using System.CommandLine;
using System.Text.Json;
using Iris.Contracts;
using Iris.Core.Models;
using Spectre.Console;

namespace Iris.Cli;

public static class ModelsCommand
{
    public static Command Create()
    {
        var command = new Command("models", "List, pull, verify and remove models in the local model cache.");
        command.Subcommands.Add(List());
        command.Subcommands.Add(Pull());
        command.Subcommands.Add(Verify());
        command.Subcommands.Add(Remove());
        return command;
    }

    private static Argument<string[]> Names(string description, ArgumentArity arity) => new("names") { Description = description, Arity = arity };

    private static Command List()
    {
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table." };
        var command = new Command("list", "List every model in the catalog and whether it is installed in the cache.") { json };
        command.SetAction(parse =>
        {
            var (options, _) = CommonOptions.Load(parse);
            using var services = CliServices.Create(options);
            var catalog = services.GetRequiredService<ModelCatalog>();
            var store = services.GetRequiredService<ModelStore>();
            var rows = catalog.All.OrderBy(m => m.Name)
                .Select(m => new { m.Name, m.Task, m.Version, Installed = store.IsInstalled(m), Bytes = m.Files.Sum(f => f.Bytes ?? 0), m.License })
                .ToList();
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(rows, DetectionResponse.Json));
                return 0;
            }
            var table = new Table().Border(TableBorder.Rounded).Title($"Models (cache: {Markup.Escape(store.CacheDirectory)})")
                .AddColumn("name").AddColumn("task").AddColumn("version").AddColumn("installed").AddColumn(new TableColumn("size").RightAligned()).AddColumn("license");
            foreach (var r in rows)
                table.AddRow(r.Name, r.Task, r.Version, r.Installed ? "[green]yes[/]" : "no", $"{r.Bytes / 1_048_576.0:F1} MiB", Markup.Escape(r.License ?? ""));
            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }

    private static Command Pull()
    {
        var names = Names("Models to pull (see `iris models list`), or Hugging Face Hub repositories as hf:OWNER/NAME[@REVISION].", ArgumentArity.ZeroOrMore);
        var all = new Option<bool>("--all") { Description = "Pull every model in the catalog." };
        var force = new Option<bool>("--force") { Description = "Fetch again even when the cached files verify." };
        var files = new Option<string[]>("--files")
        {
            Description = "hf: only. Globs of the repository files to pull (* within a folder, ** across folders), e.g. --files '*.json' 'onnx/*_quantized.onnx'. " +
                "Default: config, tokenizer and the ONNX files Iris runs.",
            AllowMultipleArgumentsPerToken = true,
        };
        var modelName = new Option<string?>("--name") { Description = "hf: only. The model's name in Iris. Default: the repository name, lower-cased." };
        var quantized = new Option<bool>("--quantized") { Description = "hf: only. Pull and serve the *_quantized.onnx files (int8) instead of full precision." };
        var command = new Command("pull",
            "Copy models from the mirror (--mirror / Models:Mirror) or download them from their upstream URLs, " +
            "verifying size and sha256 before each file is moved into the cache. hf:OWNER/NAME pulls a Hugging Face Hub repository " +
            "(Models:HubEndpoint, Models:HubToken) and writes its manifest.") { names, all, force, files, modelName, quantized };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var (options, _) = CommonOptions.Load(parse);
            await using var services = CliServices.Create(options);
            var catalog = services.GetRequiredService<ModelCatalog>();
            var store = services.GetRequiredService<ModelStore>();
            var requested = parse.GetValue(names)!;
            var hub = requested.Where(HubReference.IsHubReference).ToArray();
            var failed = 0;
            foreach (var reference in hub)
                if (!await HubPull.RunAsync(options, reference, parse.GetValue(modelName), parse.GetValue(files) ?? [], parse.GetValue(quantized), parse.GetValue(force), cancellationToken))
                    failed++;
            if (hub.Length > 0 && hub.Length == requested.Length && !parse.GetValue(all))
                return failed == 0 ? 0 : 1;
            var manifests = Select(catalog, requested.Except(hub).ToArray(), parse.GetValue(all));
            if (manifests is null) return 2;
            foreach (var manifest in manifests)
            {
                try
                {
                    // A Hub model without a mirror is checked against what the Hub publishes at its pinned commit too.
                    if (HubPin.Of(manifest) is { } pin && store.MirrorDirectory is null)
                        await HubPull.PinnedAsync(options, manifest, pin, parse.GetValue(force), cancellationToken);
                    else
                        await store.PullAsync(manifest, parse.GetValue(force), new Progress<string>(Console.WriteLine), cancellationToken);
                    Console.WriteLine($"{manifest.Name}: installed in {store.ModelDirectory(manifest)}");
                }
                catch (ModelPullException e)
                {
                    failed++;
                    Console.Error.WriteLine($"{manifest.Name}: {e.Message}");
                }
            }
            return failed == 0 ? 0 : 1;
        });
        return command;
    }

    private static Command Verify()
    {
        var names = Names("Models to verify; all installed models when omitted.", ArgumentArity.ZeroOrMore);
        var command = new Command("verify", "Recompute the sha256 of every cached file and compare it with the manifest.") { names };
        command.SetAction(parse =>
        {
            var (options, _) = CommonOptions.Load(parse);
            using var services = CliServices.Create(options);
            var catalog = services.GetRequiredService<ModelCatalog>();
            var store = services.GetRequiredService<ModelStore>();
            var requested = parse.GetValue(names)!;
            var manifests = requested.Length == 0
                ? catalog.All.Where(m => Directory.Exists(store.ModelDirectory(m))).OrderBy(m => m.Name).ToList()
                : Select(catalog, requested, false);
            if (manifests is null) return 2;
            var bad = 0;
            foreach (var manifest in manifests)
                foreach (var check in store.Verify(manifest))
                {
                    if (check.State != ModelFileState.Ok) bad++;
                    Console.WriteLine($"{manifest.Name}/{check.Path}: {(check.State == ModelFileState.Ok ? "ok" : check.Detail)}");
                }
            if (manifests.Count == 0) Console.WriteLine("No models are installed.");
            return bad == 0 ? 0 : 1;
        });
        return command;
    }

    private static Command Remove()
    {
        var names = Names("Models to remove from the cache.", ArgumentArity.OneOrMore);
        var command = new Command("remove", "Delete models' files from the cache.") { names };
        command.SetAction(parse =>
        {
            var (options, _) = CommonOptions.Load(parse);
            using var services = CliServices.Create(options);
            var catalog = services.GetRequiredService<ModelCatalog>();
            var store = services.GetRequiredService<ModelStore>();
            var manifests = Select(catalog, parse.GetValue(names)!, false);
            if (manifests is null) return 2;
            foreach (var manifest in manifests)
                Console.WriteLine(store.Remove(manifest) ? $"{manifest.Name}: removed" : $"{manifest.Name}: was not installed");
            return 0;
        });
        return command;
    }

    private static List<ModelManifest>? Select(ModelCatalog catalog, string[] names, bool all)
    {
        if (all) return catalog.All.OrderBy(m => m.Name).ToList();
        if (names.Length == 0)
        {
            Console.Error.WriteLine("Name at least one model, or pass --all. Known models: " + string.Join(", ", catalog.All.Select(m => m.Name).Order()));
            return null;
        }
        var unknown = names.Where(n => !catalog.Contains(n)).ToList();
        if (unknown.Count > 0)
        {
            Console.Error.WriteLine($"Unknown model(s): {string.Join(", ", unknown)}. Known models: {string.Join(", ", catalog.All.Select(m => m.Name).Order())}");
            return null;
        }
        return names.Select(catalog.Get).ToList();
    }
}
