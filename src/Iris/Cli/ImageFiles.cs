using System.Text.Json;
using Iris.Contracts;
using Iris.Core.Imaging;

namespace Iris.Cli;

/// <summary>
/// The per-file loop of the image commands: each file is read and handed to <c>run</c>; results are printed per file, or
/// with <c>--json</c> as one array of <c>{file, result}</c> / <c>{file, error}</c>. A failed file does not stop the others;
/// the exit code is 1 if any failed.
/// </summary>
internal static class ImageFiles
{
    public static async Task<int> ForEachAsync<T>(
        IEnumerable<FileInfo> files, bool json, Func<byte[], CancellationToken, Task<T>> run, Action<FileInfo, T> print, CancellationToken cancellationToken,
        JsonSerializerOptions? jsonOptions = null)
    {
        var exitCode = 0;
        var documents = new List<object>();
        foreach (var file in files)
        {
            try
            {
                var bytes = await File.ReadAllBytesAsync(file.FullName, cancellationToken);
                var result = await run(bytes, cancellationToken);
                if (json) documents.Add(new { file = file.FullName, result });
                else print(file, result);
            }
            catch (Exception e) when (e is ImageRejectedException or IOException or UnauthorizedAccessException)
            {
                exitCode = 1;
                if (json) documents.Add(new { file = file.FullName, error = e.Message });
                else Console.Error.WriteLine($"{file.Name}: {e.Message}");
            }
        }
        if (json)
            Console.WriteLine(JsonSerializer.Serialize(documents, jsonOptions ?? DetectionResponse.Json));
        return exitCode;
    }
}
