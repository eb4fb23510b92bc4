using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Iris.Configuration;
using Iris.Contracts;
using Iris.Core.Faces.Recognition;
using Iris.Core.Jobs.Sqlite;
using Spectre.Console;

namespace Iris.Cli;

/// <summary>
/// <c>iris people register|list|rename|delete|recognize</c>: the known-people registry of face recognition in-process,
/// on the same job database as the server's configuration (Jobs:Database, or PostgreSQL with Jobs:Store=postgres).
/// The CLI has no caller, so it works on the null owner's people: those of the server without access control, not those
/// of an API key or token (known people are per owner).
/// </summary>
public static class PeopleCommand
{
    public static Command Create()
    {
        var command = new Command("people", "Known people for face recognition: register them from photos, list, rename, delete, recognise them in photos. " +
            "These are the people of the server without access control (known people are per owner; the CLI has no API key, so it never sees an API key's or token's people).");
        command.Subcommands.Add(Register());
        command.Subcommands.Add(List());
        command.Subcommands.Add(Rename());
        command.Subcommands.Add(Delete());
        command.Subcommands.Add(Recognize());
        return command;
    }

    /// <summary>What the registry refuses (no face, several faces, an unknown person, a taken name, a bad image) is a message and exit code 1, not a stack trace.</summary>
    private static async Task<int> Refusals(Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (Exception e) when (e is NoFaceFoundException or SeveralFacesException or FaceIndexOutOfRangeException or UnknownPersonException
                                       or PersonNameTakenException or Iris.Core.Tasks.InvalidParameterException or Iris.Core.Imaging.ImageRejectedException
                                       or Iris.Core.Models.ModelNotFoundException or IOException)
        {
            Console.Error.WriteLine(e.Message);
            return 1;
        }
    }

    /// <summary>The null owner: the people of Iris without access control (the CLI has no caller).</summary>
    private const string? Owner = null;

    private static ServiceProvider Services(IrisOptions options) => CliServices.Create(options, s =>
    {
        s.AddSingleton(_ => new SqliteJobDatabase(options.Jobs.Database));
        s.AddIrisKnownPeople(options);
    });

    private static Command Register()
    {
        var name = new Argument<string>("name") { Description = "The person's name (unique among these people; 1–100 characters)." };
        var files = new Argument<FileInfo[]>("files") { Description = "Photos of the person, one face each.", Arity = ArgumentArity.OneOrMore };
        var faceIndex = new Option<int?>("--face-index") { Description = "In group photos, the person's face: 0 = the largest, 1 = the next, …" };
        var largest = new Option<bool>("--largest") { Description = "In group photos, take the largest face." };
        var add = new Option<bool>("--add") { Description = "Add the photos to an existing person of that name instead of refusing the name." };
        var command = new Command("register", "Register a person from photos. A photo without a face, or with several faces and neither --face-index nor --largest, registers nothing.")
        {
            name, files, faceIndex, largest, add,
        };
        command.SetAction((parse, cancellationToken) => Refusals(async () =>
        {
            var (options, _) = CommonOptions.Load(parse);
            await using var services = Services(options);
            var samples = parse.GetValue(files)!.Select(f => new FaceSample(f.Name, File.ReadAllBytes(f.FullName))).ToList();
            var person = await services.GetRequiredService<KnownPeople>().RegisterAsync(Owner, parse.GetValue(name)!, samples,
                new FaceChoice(parse.GetValue(faceIndex), parse.GetValue(largest)), parse.GetValue(add), cancellationToken);
            Console.WriteLine($"{person.Id}  {person.Name}  {person.Faces} face(s)");
            return 0;
        }));
        return command;
    }

    private static Command List()
    {
        var command = new Command("list", "List the known people: id, name, registered faces.");
        command.SetAction((parse, cancellationToken) => Refusals(async () =>
        {
            var (options, _) = CommonOptions.Load(parse);
            await using var services = Services(options);
            foreach (var person in await services.GetRequiredService<KnownPeople>().ListAsync(Owner, cancellationToken))
                Console.WriteLine($"{person.Id}  {person.Name}  {person.Faces} face(s)");
            return 0;
        }));
        return command;
    }

    private static Command Rename()
    {
        var id = new Argument<Guid>("id") { Description = "The person's id (iris people list)." };
        var name = new Argument<string>("name") { Description = "The new name." };
        var command = new Command("rename", "Rename a known person.") { id, name };
        command.SetAction((parse, cancellationToken) => Refusals(async () =>
        {
            var (options, _) = CommonOptions.Load(parse);
            await using var services = Services(options);
            var person = await services.GetRequiredService<KnownPeople>().RenameAsync(Owner, parse.GetValue(id), parse.GetValue(name)!, cancellationToken);
            Console.WriteLine($"{person.Id}  {person.Name}  {person.Faces} face(s)");
            return 0;
        }));
        return command;
    }

    private static Command Delete()
    {
        var id = new Argument<Guid>("id") { Description = "The person's id (iris people list)." };
        var command = new Command("delete", "Forget a known person and their faces.") { id };
        command.SetAction((parse, cancellationToken) => Refusals(async () =>
        {
            var (options, _) = CommonOptions.Load(parse);
            await using var services = Services(options);
            await services.GetRequiredService<KnownPeople>().DeleteAsync(Owner, parse.GetValue(id), cancellationToken);
            return 0;
        }));
        return command;
    }

    private static Command Recognize()
    {
        var files = new Argument<FileInfo[]>("files") { Description = "Photos to name the known people in.", Arity = ArgumentArity.OneOrMore };
        var threshold = new Option<float?>("--threshold") { Description = "Cosine similarity a face must reach to be a known person, 0–1 (Faces:RecognitionThreshold). Default: 0.7." };
        var json = new Option<bool>("--json") { Description = "Print the same JSON document as POST /v1/faces/recognize (one per file)." };
        var command = new Command("recognize", "Name the known people in photos; other faces are unknown.") { files, threshold, json };
        command.SetAction((parse, cancellationToken) => Refusals(async () =>
        {
            var (options, _) = CommonOptions.Load(parse);
            await using var services = Services(options);
            var people = services.GetRequiredService<KnownPeople>();
            var limit = Iris.Core.Tasks.ParameterRange.Check(parse.GetValue(threshold) ?? people.DefaultThreshold, "--threshold", 0f, 1f);
            foreach (var file in parse.GetValue(files)!)
            {
                var response = RecognitionResponse.From(await people.RecognizeAsync(Owner, File.ReadAllBytes(file.FullName), limit, cancellationToken));
                if (parse.GetValue(json))
                {
                    Console.WriteLine(JsonSerializer.Serialize(response, new JsonSerializerOptions(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
                    continue;
                }
                var table = new Table().Border(TableBorder.Rounded).Title($"[bold]{Markup.Escape(file.Name)}[/] · {response.Faces.Count} face(s)")
                    .AddColumn("name").AddColumn(new TableColumn("similarity").RightAligned()).AddColumn("box");
                foreach (var face in response.Faces)
                    table.AddRow(Markup.Escape(face.Name), face.Similarity.ToString("F3", CultureInfo.InvariantCulture),
                        FormattableString.Invariant($"{face.Box.XMin:F0},{face.Box.YMin:F0} – {face.Box.XMax:F0},{face.Box.YMax:F0}"));
                AnsiConsole.Write(table);
            }
            return 0;
        }));
        return command;
    }
}
