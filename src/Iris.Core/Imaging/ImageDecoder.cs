using System.Diagnostics;
using Iris.Core.Telemetry;
using NetVips;

namespace Iris.Core.Imaging;

/// <summary>
/// Turns untrusted bytes into a <see cref="DecodedImage"/>: checks the byte limit, identifies the
/// format by content, reads only the header to check the pixel limit, then decodes with libvips
/// under a deadline, applies EXIF orientation and converts to 8-bit sRGB.
/// </summary>
public sealed class ImageDecoder
{
    static ImageDecoder() => Libvips.EnsureConfigured();

    private readonly ImageLimits _limits;

    public ImageDecoder(ImageLimits limits) => _limits = limits;

    public ImageLimits Limits => _limits;

    public DecodedImage Decode(byte[] data, CancellationToken cancellationToken = default)
    {
        using var activity = IrisTracing.Source.StartActivity("image.decode");
        activity?.SetTag("iris.bytes", data.Length);
        var started = Stopwatch.GetTimestamp();
        try
        {
            var image = DecodeChecked(data, cancellationToken);
            activity?.SetTag("iris.format", image.Format.ToString().ToLowerInvariant());
            IrisMetrics.ImageDecodeDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds,
                new KeyValuePair<string, object?>("format", image.Format.ToString().ToLowerInvariant()));
            return image;
        }
        catch (ImageRejectedException e)
        {
            IrisMetrics.ImagesRejected.Add(1, new KeyValuePair<string, object?>("reason", e.GetType().Name.Replace("Exception", "")));
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            throw;
        }
    }

    private DecodedImage DecodeChecked(byte[] data, CancellationToken cancellationToken)
    {
        if (data.Length == 0)
            throw new EmptyImageException();
        if (data.Length > _limits.MaxBytes)
            throw new ImageTooLargeException(data.Length, _limits.MaxBytes);
        var format = ImageFormatSniffer.Sniff(data)
            ?? throw new UnsupportedImageFormatException(
                "The data is not an image in a supported format (JPEG, PNG, GIF, WebP, TIFF, BMP, HEIF/AVIF, SVG); " +
                "the format is detected from the file's content, not its name or Content-Type.");

        return format == ImageFormat.Bmp
            ? DecodeBmp(data)
            : DecodeWithVips(data, format, cancellationToken);
    }

    private DecodedImage DecodeBmp(byte[] data)
    {
        var header = BmpDecoder.ReadHeader(data);
        CheckPixels(header.Width, header.Height);
        return new DecodedImage(header.Width, header.Height, BmpDecoder.DecodeRgb(data, header), ImageFormat.Bmp, 1, data.Length);
    }

    private DecodedImage DecodeWithVips(byte[] data, ImageFormat format, CancellationToken cancellationToken)
    {
        Image image;
        try
        {
            // Opening reads the header only; pixels are decoded later, when they are written out.
            image = Image.NewFromBuffer(data, access: Enums.Access.Sequential, failOn: Enums.FailOn.Truncated);
        }
        catch (VipsException e)
        {
            throw LoadFailure(format, e);
        }

        using (image)
        {
            CheckPixels(image.Width, image.Height);
            var orientation = image.Contains("orientation") ? Math.Clamp((int)image.Get("orientation"), 1, 8) : 1;

            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(_limits.DecodeTimeout);
            var stopwatch = Stopwatch.StartNew();
            try
            {
                using var upright = orientation == 1 ? image.Copy() : image.Autorot();
                using var rgb = ToSrgb8(upright);
                rgb.SetProgress(NoProgress.Instance, deadline.Token);
                var pixels = rgb.WriteToMemory<byte>();
                // libvips checks for cancellation only between progress ticks, so a decode can finish past the
                // deadline without being stopped; the limit still holds.
                if (stopwatch.Elapsed >= _limits.DecodeTimeout)
                    throw new ImageDecodeTimeoutException(_limits.DecodeTimeout);
                return new DecodedImage(rgb.Width, rgb.Height, pixels, format, orientation, data.Length);
            }
            catch (VipsException e)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (deadline.IsCancellationRequested || stopwatch.Elapsed >= _limits.DecodeTimeout)
                    throw new ImageDecodeTimeoutException(_limits.DecodeTimeout);
                throw new CorruptImageException($"The {format.Name().ToUpperInvariant()} image is corrupt or truncated: {FirstLine(e.Message)}", e);
            }
        }
    }

    private static Image ToSrgb8(Image image)
    {
        var srgb = image.Interpretation == Enums.Interpretation.Srgb && image.Format == Enums.BandFormat.Uchar
            ? image.Copy()
            : image.Colourspace(Enums.Interpretation.Srgb);
        if (srgb.HasAlpha())
        {
            // Transparent areas are shown as on a white page, the way a browser shows them.
            using var withAlpha = srgb;
            srgb = withAlpha.Flatten(background: [255, 255, 255]);
        }
        if (srgb.Bands > 3)
        {
            using var extra = srgb;
            srgb = extra.ExtractBand(0, 3);
        }
        if (srgb.Format != Enums.BandFormat.Uchar)
        {
            using var wide = srgb;
            srgb = wide.Cast(Enums.BandFormat.Uchar);
        }
        return srgb;
    }

    private void CheckPixels(int width, int height)
    {
        if ((long)width * height > _limits.MaxPixels)
            throw new ImageDimensionsTooLargeException(width, height, _limits.MaxPixels);
    }

    private static ImageRejectedException LoadFailure(ImageFormat format, VipsException e)
    {
        var reason = FirstLine(e.Message);
        if (format is ImageFormat.Heif or ImageFormat.Avif && reason.Contains("no decoder", StringComparison.OrdinalIgnoreCase) ||
            reason.Contains("is not a known", StringComparison.OrdinalIgnoreCase))
            return new UnsupportedImageFormatException($"This {format.Name().ToUpperInvariant()} image cannot be decoded by the bundled libvips: {reason}");
        return new CorruptImageException($"The data looks like {format.Name().ToUpperInvariant()} but its header cannot be read: {reason}", e);
    }

    private static string FirstLine(string message)
    {
        var line = message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .FirstOrDefault(l => !l.StartsWith("unable to call", StringComparison.Ordinal)) ?? message;
        return line.Length > 300 ? line[..300] : line;
    }

    private sealed class NoProgress : IProgress<int>
    {
        public static readonly NoProgress Instance = new();
        public void Report(int value) { }
    }
}
