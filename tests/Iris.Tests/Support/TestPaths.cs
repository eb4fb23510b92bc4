namespace Iris.Tests.Support;

/// <summary>Locates the repository and the shared model mirror and test data beside it (../shared).</summary>
public static class TestPaths
{
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string Shared { get; } =
        Environment.GetEnvironmentVariable("IRIS_TEST_SHARED") is { Length: > 0 } fromEnvironment
            ? Path.GetFullPath(fromEnvironment)
            : Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared"));

    public static string ModelMirror => Path.Combine(Shared, "models");
    public static string RealImages => Path.Combine(Shared, "testdata", "real");
    public static string RealImage(string name) => Path.Combine(RealImages, name);
    public static string Flowers => Path.Combine(Shared, "testdata", "flowers");

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Iris.slnx")))
                return dir.FullName;
        throw new InvalidOperationException("Could not find Iris.slnx above " + AppContext.BaseDirectory);
    }
}

/// <summary>A directory under the system temp folder, deleted when the test ends.</summary>
public sealed class TempDirectory : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "iris-tests", Guid.NewGuid().ToString("N"));

    public TempDirectory() => Directory.CreateDirectory(Path);

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
