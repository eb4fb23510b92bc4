using System.CommandLine;
using Iris.Cli;
using Iris.Configuration;
using Iris.Core.Models;

var root = new RootCommand("Iris — a self-hosted image intelligence server: detect objects and faces, classify, read text, caption and embed images, transform them, and run it all as durable jobs, over REST or from this CLI.");
CommonOptions.AddTo(root);
root.Subcommands.Add(ServeCommand.Create());
root.Subcommands.Add(DetectCommand.Create());
root.Subcommands.Add(ClassifyCommand.Create());
root.Subcommands.Add(ModerateCommand.Create());
root.Subcommands.Add(FacesCommand.Create());
root.Subcommands.Add(PeopleCommand.Create());
root.Subcommands.Add(InfoCommand.Create());
root.Subcommands.Add(AnalyzeCommand.Create());
root.Subcommands.Add(OcrCommand.Create());
root.Subcommands.Add(DescribeCommand.Create());
root.Subcommands.Add(ModelsCommand.Create());
root.Subcommands.Add(TransformCommand.Create());
root.Subcommands.Add(WorkerCommand.Create());
root.Subcommands.Add(LibraryCommand.Create());

try
{
    return await root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (InvalidConfigurationException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}
catch (Exception e) when (e is ModelNotReadyException or ModelNotFoundException or ModelTaskMismatchException
    or Iris.Core.Tasks.InvalidParameterException or InvalidModelManifestException)
{
    Console.Error.WriteLine(e.Message);
    return 1;
}

/// <summary>Entry point marker for tests and benchmarks that start the real host.</summary>
public partial class Program;
