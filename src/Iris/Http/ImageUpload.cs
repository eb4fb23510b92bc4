using System.Buffers;
using System.Text.Json;
using Iris.Core.Imaging;
using Iris.Core.Tasks;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace Iris.Http;

/// <summary>
/// The bytes of one uploaded image, and the form fields sent beside it. Accepts multipart/form-data
/// (field <c>image</c> or <c>file</c>), a raw body (any image/* or application/octet-stream type), or JSON
/// <c>{"image": "&lt;base64 or data: URI&gt;"}</c>. The content type only picks the envelope: what the
/// bytes are is decided later from their content.
/// </summary>
public sealed record ImageUpload(byte[] Bytes, string? FileName, IFormCollection? Form)
{
    private static readonly string[] FileFields = ["image", "file"];

    /// <summary>The JSON body's other fields, when the image came as JSON; <see cref="Parameter"/> reads string and number fields from it.</summary>
    public System.Text.Json.JsonElement? Json { get; init; }

    /// <summary>The body limit Kestrel enforces: the image limit plus room for base64 (4/3) and multipart framing.</summary>
    public static long RequestBodyLimit(ImageLimits limits) => limits.MaxBytes / 3 * 4 + 1_048_576;

    public static async Task<ImageUpload> ReadAsync(HttpRequest request, ImageLimits limits, CancellationToken cancellationToken)
    {
        if (request.ContentLength is { } declared && declared > RequestBodyLimit(limits))
            throw new ImageTooLargeException(declared, limits.MaxBytes);

        var contentType = request.ContentType ?? "";
        if (request.HasFormContentType)
            return await ReadFormAsync(request, limits, cancellationToken);
        if (contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
            return await ReadJsonAsync(request, limits, cancellationToken);
        if (request.ContentLength == 0 && contentType.Length == 0)
            throw new EmptyImageException();
        if (contentType.Length > 0 && !contentType.StartsWith("image/", StringComparison.OrdinalIgnoreCase)
            && !contentType.StartsWith("application/octet-stream", StringComparison.OrdinalIgnoreCase))
            throw new UnsupportedImageFormatException(
                $"Content-Type '{contentType}' cannot carry an image. Send multipart/form-data with an 'image' field, " +
                "a raw body with an image/* or application/octet-stream type, or application/json with a base64 'image'.");
        return new ImageUpload(await ReadBodyAsync(request.Body, limits.MaxBytes, cancellationToken), null, null);
    }

    /// <summary>
    /// The request's form, or a 400 naming what is wrong with it: a malformed multipart body (bad framing, a body that
    /// ends before its closing boundary) is the client's error, not the server's.
    /// </summary>
    public static async Task<IFormCollection> ReadFormOrRefuseAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return await request.ReadFormAsync(cancellationToken);
        }
        // Kestrel's "request body too large" is an IOException too; it goes on to the handler that answers it with 413.
        catch (Exception e) when (e is InvalidDataException or IOException and not BadHttpRequestException)
        {
            throw new InvalidRequestException($"The multipart body could not be read: {e.Message}");
        }
    }

    private static async Task<ImageUpload> ReadFormAsync(HttpRequest request, ImageLimits limits, CancellationToken cancellationToken)
    {
        var form = await ReadFormOrRefuseAsync(request, cancellationToken);
        var file = FileFields.Select(f => form.Files.GetFile(f)).FirstOrDefault(f => f is not null);
        if (file is null)
        {
            var sent = form.Files.Count == 0 ? "no files" : "files named " + string.Join(", ", form.Files.Select(f => $"'{f.Name}'"));
            throw new InvalidRequestException($"The multipart form has no 'image' or 'file' field (it has {sent}).", "image");
        }
        if (file.Length > limits.MaxBytes)
            throw new ImageTooLargeException(file.Length, limits.MaxBytes);
        await using var stream = file.OpenReadStream();
        return new ImageUpload(await ReadBodyAsync(stream, limits.MaxBytes, cancellationToken), file.FileName, form);
    }

    private static async Task<ImageUpload> ReadJsonAsync(HttpRequest request, ImageLimits limits, CancellationToken cancellationToken)
    {
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken);
        }
        catch (JsonException e)
        {
            throw new InvalidRequestException($"The JSON body is not valid JSON: {e.Message}");
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("image", out var image) || image.ValueKind != JsonValueKind.String)
                throw new InvalidRequestException("The JSON body must be an object with an 'image' string holding base64 data or a data: URI.", "image");
            var text = image.GetString()!;
            if (text.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
            {
                var comma = text.IndexOf(',');
                if (comma < 0 || !text[..comma].EndsWith(";base64", StringComparison.OrdinalIgnoreCase))
                    throw new InvalidRequestException("A data: URI in 'image' must be base64-encoded (data:image/png;base64,...).", "image");
                text = text[(comma + 1)..];
            }
            return new ImageUpload(DecodeBase64(text, limits, "image", "The 'image' field is not valid base64."), null, null)
                { Json = FieldsBesideImage(document.RootElement) };
        }
    }

    /// <summary>Base64 image bytes, refused from their length alone when they would exceed the image limit.</summary>
    public static byte[] DecodeBase64(string text, ImageLimits limits, string field, string invalidDetail)
    {
        if (text.Length / 4L * 3 > limits.MaxBytes + 3)
            throw new ImageTooLargeException(text.Length / 4L * 3, limits.MaxBytes);
        var buffer = new byte[text.Length / 4 * 3 + 3];
        if (!Convert.TryFromBase64String(text, buffer, out var written))
            throw new InvalidRequestException(invalidDetail, field);
        return buffer[..written];
    }

    /// <summary>The body's other fields, copied without the (possibly megabytes of) base64 image.</summary>
    private static JsonElement FieldsBesideImage(JsonElement root)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var property in root.EnumerateObject().Where(p => p.Name != "image"))
                property.WriteTo(writer);
            writer.WriteEndObject();
        }
        using var fields = JsonDocument.Parse(buffer.WrittenMemory);
        return fields.RootElement.Clone();
    }

    /// <summary>
    /// The image files of a multipart form whose field names <paramref name="include"/> accepts, in form order, each
    /// within the image size limit, and the form: for routes that take several images (face registration, face match).
    /// </summary>
    public static async Task<(IReadOnlyList<(string Field, byte[] Bytes)> Files, IFormCollection Form)> ReadFilesAsync(
        HttpRequest request, ImageLimits limits, Func<string, bool> include, string expected, CancellationToken cancellationToken)
    {
        if (!request.HasFormContentType)
            throw new InvalidRequestException($"Send the images as multipart/form-data file fields ({expected}).", "image");
        var form = await ReadFormOrRefuseAsync(request, cancellationToken);
        var files = new List<(string, byte[])>();
        foreach (var file in form.Files.Where(f => include(f.Name)))
        {
            if (file.Length > limits.MaxBytes) throw new ImageTooLargeException(file.Length, limits.MaxBytes);
            await using var stream = file.OpenReadStream();
            files.Add((file.Name, await ReadBodyAsync(stream, limits.MaxBytes, cancellationToken)));
        }
        return (files, form);
    }

    private static async Task<byte[]> ReadBodyAsync(Stream body, long maxBytes, CancellationToken cancellationToken)
    {
        var writer = new ArrayBufferWriter<byte>(64 * 1024);
        while (true)
        {
            var memory = writer.GetMemory(64 * 1024);
            var read = await body.ReadAsync(memory, cancellationToken);
            if (read == 0) break;
            writer.Advance(read);
            if (writer.WrittenCount > maxBytes)
                throw new ImageTooLargeException(writer.WrittenCount, maxBytes);
        }
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>The request's parameters (query string, form fields, JSON body fields) for a task to read.</summary>
    public ParameterReader Parameters(HttpRequest request) => new(name => Parameter(request, name));

    /// <summary>A parameter from the query string, else from a form field of the same name.</summary>
    public string? Parameter(HttpRequest request, string name)
    {
        var value = request.Query[name].ToString();
        if (value.Length == 0 && Form is not null) value = Form[name].ToString();
        if (value.Length == 0 && Json is { ValueKind: JsonValueKind.Object } json && json.TryGetProperty(name, out var field)
            && field.ValueKind is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False)
            value = field.ValueKind == JsonValueKind.String ? field.GetString()! : field.GetRawText();
        return value.Length == 0 ? null : value;
    }

    public static void ConfigureLimits(IServiceCollection services, ImageLimits limits)
    {
        services.Configure<FormOptions>(o =>
        {
            o.MultipartBodyLengthLimit = RequestBodyLimit(limits);
            o.ValueLengthLimit = 1 << 20;
        });
    }
}
