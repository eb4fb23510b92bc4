namespace Iris.Bench;

/// <summary>
/// The <c>shared/</c> folder that sits beside the repository (<c>../shared</c> from its root): the model mirror
/// in <c>models/</c> and the test images in <c>testdata/real/</c>. It is found by walking up from the current
/// directory and from the executable, so the benchmarks work from the repository root and from the child
/// processes BenchmarkDotNet starts deep inside <c>bin/</c>.
/// </summary>
public static class SharedFolder
{
    public const string DefaultImageName = "dog.jpg";

    public static string? TryLocate()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                var candidate = Path.Combine(directory.FullName, "shared");
                if (Directory.Exists(Path.Combine(candidate, "models")))
                    return candidate;
            }
        return null;
    }

    public static string Locate() => TryLocate()
        ?? throw new DirectoryNotFoundException(
            "Could not find a 'shared' folder with 'models/' beside the repository or any of its parents; pass --mirror and --image.");

    public static string ModelsMirror => Path.Combine(Locate(), "models");

    public static string TestImage(string name = DefaultImageName) => Path.Combine(Locate(), "testdata", "real", name);
}
