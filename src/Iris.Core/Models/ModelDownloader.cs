using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;

namespace Iris.Core.Models;

/// <summary>
/// Downloads one model file over HTTP into a <c>.part</c> file, resuming with a Range request after a
/// dropped connection. The caller verifies size and sha256 before the file is moved into place.
/// </summary>
public sealed class ModelDownloader(HttpClient http, int maxAttempts, ILogger<ModelDownloader>? logger = null)
{
    public async Task DownloadAsync(Uri url, string partPath, long? expectedBytes, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        Exception? lastError = null;
        for (var attempt = 1; attempt <= maxAttempts; attempt++)
        {
            var existing = File.Exists(partPath) ? new FileInfo(partPath).Length : 0;
            if (expectedBytes is { } total && existing > total)
            {
                File.Delete(partPath);
                existing = 0;
            }
            if (expectedBytes is { } complete && existing == complete && existing > 0)
                return;

            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, url);
                if (existing > 0)
                    request.Headers.Range = new RangeHeaderValue(existing, null);
                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);

                if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && existing > 0)
                {
                    // The server says we already have everything past this offset: restart cleanly.
                    File.Delete(partPath);
                    continue;
                }
                if (!response.IsSuccessStatusCode)
                {
                    var error = new ModelPullException($"GET {url} answered {(int)response.StatusCode} {response.ReasonPhrase}.");
                    if ((int)response.StatusCode is >= 400 and < 500 and not 408 and not 429)
                        throw error;
                    lastError = error;
                    await Backoff(attempt, cancellationToken);
                    continue;
                }

                var resumed = response.StatusCode == HttpStatusCode.PartialContent
                    && response.Content.Headers.ContentRange?.From == existing;
                await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
                await using var file = new FileStream(partPath, resumed ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
                if (resumed)
                    logger?.LogInformation("Resuming {Url} at byte {Offset}", url, existing);
                var buffer = new byte[1 << 16];
                var written = resumed ? existing : 0;
                int read;
                while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    written += read;
                    progress?.Report(written);
                    if (expectedBytes is { } limit && written > limit)
                        throw new ModelFileIntegrityException($"{url} sent more than the expected {limit:N0} bytes.");
                }
                return;
            }
            catch (Exception e) when (e is HttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
            {
                // A dropped connection keeps the bytes already written; the next attempt resumes there.
                lastError = e;
                logger?.LogWarning("Download of {Url} interrupted (attempt {Attempt}/{Max}): {Error}", url, attempt, maxAttempts, e.Message);
                await Backoff(attempt, cancellationToken);
            }
        }
        throw new ModelPullException($"Downloading {url} failed after {maxAttempts} attempts: {lastError?.Message}", lastError);
    }

    private static Task Backoff(int attempt, CancellationToken cancellationToken) =>
        Task.Delay(TimeSpan.FromMilliseconds(Math.Min(200 * Math.Pow(2, attempt - 1), 5_000)), cancellationToken);
}
