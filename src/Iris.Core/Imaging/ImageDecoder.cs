using System.Diagnostics;
using Iris.Core.Telemetry;
using NetVips;

namespace Iris.Core.Imaging;

/// <summary>
/// Turns untrusted bytes into a <see cref="DecodedImage"/>: checks the byte limit, identifies the
/// format by content, reads only the header to check the pixel limit, then decodes with libvips
/// under a deadline, applies EXIF orientation and converts to 8-bit sRGB. An upright JPEG goes to TurboJPEG instead,
/// its header read by TurboJPEG and its orientation by <see cref="JpegOrientation"/>, without opening it in libvips.
/// When every task of a request needs a bounded input (<see cref="DecodeNeed"/>), a JPEG or WebP is shrunk on load (DCT
/// scaling, libwebp's scaled decode) to the smallest size that still leaves the model's own resampler
/// <see cref="DecodeNeed.Margin"/>× to shrink; the image remembers its original size so results map back to it.
/// Every decode first takes its pixels from the process-wide <see cref="DecodeAdmission"/> budget. The deadline and the
/// caller's cancellation end libvips' work (the image is killed, so evaluation stops at the next tile), not just the wait.
/// </summary>
public sealed class ImageDecoder
{
    static ImageDecoder() => Libvips.EnsureConfigured();

    private readonly ImageLimits _limits;
    private readonly DecodeAdmission _admission;
    private readonly bool _shrinkOnLoad;
    private readonly TurboJpeg? _turboJpeg;

    /// <param name="shrinkOnLoad">Images:ShrinkOnLoad; false decodes every image at full resolution whatever the tasks need.</param>
    /// <param name="turboJpeg">Images:TurboJpeg; false decodes JPEGs with libvips even where TurboJPEG is installed.</param>
    public ImageDecoder(ImageLimits limits, DecodeAdmission? admission = null, bool shrinkOnLoad = true, bool turboJpeg = true)
    {
        _limits = limits;
        _admission = admission ?? DecodeAdmission.Unlimited;
        _shrinkOnLoad = shrinkOnLoad;
        TurboJpegRequested = turboJpeg;
        _turboJpeg = turboJpeg ? TurboJpeg.Installed : null;
    }

    /// <summary>Images:TurboJpeg as configured; <see cref="UsesTurboJpeg"/> says whether the library was there to honour it.</summary>
    public bool TurboJpegRequested { get; }

    /// <summary>Whether upright YCbCr, RGB and grey JPEGs are decoded by TurboJPEG (<see cref="TurboJpeg"/>) rather than libvips.</summary>
    public bool UsesTurboJpeg => _turboJpeg is not null;

    public ImageLimits Limits => _limits;
    public DecodeAdmission Admission => _admission;
    public bool ShrinkOnLoad => _shrinkOnLoad;

    /// <summary>Decodes on the calling thread, which also waits there for room in the budget (the CLI, tools).</summary>
    public DecodedImage Decode(byte[] data, CancellationToken cancellationToken = default) => Decode(data, [], cancellationToken);

    /// <summary>Decodes on the calling thread, shrunk on load as far as every one of <paramref name="needs"/> allows (none: full resolution).</summary>
    public DecodedImage Decode(byte[] data, IReadOnlyList<DecodeNeed> needs, CancellationToken cancellationToken = default)
    {
        // Without the asynchronous wait nothing in the decode awaits, so it has completed by the time it returns.
        var decoding = DecodeAsync(data, needs, waitAsync: false, cancellationToken);
        Debug.Assert(decoding.IsCompleted);
        return decoding.GetAwaiter().GetResult();
    }

    /// <summary>
    /// Decodes like <see cref="Decode"/>, but waits for room in the budget without holding a thread, so requests queued
    /// behind a burst of large images do not take the thread pool with them.
    /// </summary>
    public ValueTask<DecodedImage> DecodeAsync(byte[] data, CancellationToken cancellationToken = default) =>
        DecodeAsync(data, [], waitAsync: true, cancellationToken);

    /// <summary>Decodes like <see cref="DecodeAsync(byte[], CancellationToken)"/>, shrunk on load as far as every one of <paramref name="needs"/> allows.</summary>
    public ValueTask<DecodedImage> DecodeAsync(byte[] data, IReadOnlyList<DecodeNeed> needs, CancellationToken cancellationToken = default) =>
        DecodeAsync(data, needs, waitAsync: true, cancellationToken);

    private async ValueTask<DecodedImage> DecodeAsync(byte[] data, IReadOnlyList<DecodeNeed> needs, bool waitAsync, CancellationToken cancellationToken)
    {
        using var activity = StartActivity(data);
        var started = Stopwatch.GetTimestamp();
        try
        {
            var opened = OpenChecked(data, _shrinkOnLoad ? needs : []);
            DecodeAdmission.Lease lease;
            try
            {
                lease = waitAsync
                    ? await _admission.AdmitAsync(opened.Pixels, outlivesCall: true, cancellationToken)
                    : _admission.Admit(opened.Pixels, outlivesCall: true, cancellationToken);
            }
            catch
            {
                opened.Image?.Dispose();
                throw;
            }
            return Decoded(Finish(opened, lease, data, cancellationToken), activity, started);
        }
        catch (ImageRejectedException e)
        {
            throw Rejected(e, activity);
        }
    }

    private static Activity? StartActivity(byte[] data)
    {
        var activity = IrisTracing.Source.StartActivity("image.decode");
        activity?.SetTag("iris.bytes", data.Length);
        return activity;
    }

    private static DecodedImage Decoded(DecodedImage image, Activity? activity, long started)
    {
        var shrink = image.IsShrunk ? ShrinkTag((int)Math.Round(image.ToOriginalScale.X)) : "1";
        activity?.SetTag("iris.format", image.Format.ToString().ToLowerInvariant());
        activity?.SetTag("iris.shrink", shrink);
        activity?.SetTag("iris.decoder", image.DecodedBy);
        IrisMetrics.ImageDecodeDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds,
            new KeyValuePair<string, object?>("format", image.Format.ToString().ToLowerInvariant()),
            new KeyValuePair<string, object?>("shrink", shrink),
            new KeyValuePair<string, object?>("decoder", image.DecodedBy));
        return image;
    }

    /// <summary>The shrink-on-load factor as a metric tag: a few fixed values, so the series stay few.</summary>
    private static string ShrinkTag(int factor) => factor switch
    {
        <= 1 => "1",
        2 or 3 => "2",
        >= 4 and < 8 => "4",
        _ => "8+",
    };

    private static ImageRejectedException Rejected(ImageRejectedException e, Activity? activity)
    {
        IrisMetrics.ImagesRejected.Add(1, new KeyValuePair<string, object?>("reason", e.GetType().Name.Replace("Exception", "")));
        activity?.SetStatus(ActivityStatusCode.Error, e.Message);
        return e;
    }

    /// <summary>
    /// An image whose header has passed the limits, not yet decoded: a libvips image opened on its header, or a BMP
    /// header (BMP is decoded by Iris's own reader).
    /// </summary>
    /// <param name="Original">The upright size in the file, and the original pixels per decoded one, when it is shrunk on load.</param>
    /// <param name="UprightJpeg">The size to decode an upright JPEG at with TurboJPEG, opened without libvips (<see cref="OpenUprightJpeg"/>).</param>
    private sealed record Opened(ImageFormat Format, Image? Image, BmpDecoder.Header? Bmp, long Pixels, Shrunk? Original = null,
        (int Width, int Height)? UprightJpeg = null);

    private sealed record Shrunk(int Width, int Height, double ScaleX, double ScaleY);

    private Opened OpenChecked(byte[] data, IReadOnlyList<DecodeNeed> needs)
    {
        if (data.Length == 0)
            throw new EmptyImageException();
        if (data.Length > _limits.MaxBytes)
            throw new ImageTooLargeException(data.Length, _limits.MaxBytes);
        var format = ImageFormatSniffer.Sniff(data)
            ?? throw new UnsupportedImageFormatException(
                "The data is not an image in a supported format (JPEG, PNG, GIF, WebP, TIFF, BMP, HEIF/AVIF, SVG); " +
                "the format is detected from the file's content, not its name or Content-Type.");

        if (format == ImageFormat.Bmp)
        {
            var header = BmpDecoder.ReadHeader(data);
            _limits.CheckDimensions(header.Width, header.Height);
            return new Opened(format, null, header, (long)header.Width * header.Height);
        }

        if (format == ImageFormat.Jpeg && OpenUprightJpeg(data, needs) is { } upright)
            return upright;
        if (format == ImageFormat.Svg)
            SvgComplexity.Check(data);
        var image = Open(data, format);
        try
        {
            _limits.CheckDimensions(image.Width, image.Height);
            if (format == ImageFormat.Svg && SvgScale(image.Width, image.Height, _limits.MaxSvgPixels) is { } scale)
            {
                image.Dispose();
                image = Open(data, format, new VOption { { "scale", scale } });
            }
            Shrunk? original = null;
            var orientation = Orientation(image);
            var (turned, random) = (orientation >= 5, orientation >= 3);
            if (format is ImageFormat.Jpeg or ImageFormat.WebP && needs.Count > 0 && ShrinkOnLoadFactor(image, format, needs) is { } shrink)
            {
                var (storedWidth, storedHeight) = (image.Width, image.Height);
                var shrunk = Open(data, format, format == ImageFormat.Jpeg ? new VOption { { "shrink", shrink } } : new VOption { { "scale", 1.0 / shrink } }, random);
                image.Dispose();
                image = shrunk;
                // DCT scaling keeps every 8×8 block in place, so a decoded pixel is exactly `shrink` original ones even
                // when the last block is partial; libwebp rounds its output size, so there the sizes give the scale.
                var (scaleX, scaleY) = format == ImageFormat.Jpeg
                    ? (shrink, shrink)
                    : ((double)storedWidth / image.Width, (double)storedHeight / image.Height);
                original = turned
                    ? new Shrunk(storedHeight, storedWidth, scaleY, scaleX)
                    : new Shrunk(storedWidth, storedHeight, scaleX, scaleY);
            }
            else if (random)
            {
                var reopened = Open(data, format, null, random);
                image.Dispose();
                image = reopened;
            }
            return new Opened(format, image, null, (long)image.Width * image.Height, original);
        }
        catch
        {
            image.Dispose();
            throw;
        }
    }

    /// <summary>
    /// An upright JPEG in a colour space TurboJPEG decodes, opened from TurboJPEG's header and <see cref="JpegOrientation"/>
    /// alone (limits checked, shrink-on-load chosen as for libvips); null leaves the file to libvips' header.
    /// </summary>
    private Opened? OpenUprightJpeg(byte[] data, IReadOnlyList<DecodeNeed> needs)
    {
        if (_turboJpeg is null || JpegOrientation.Read(data) != 1 || !_turboJpeg.TryReadHeader(data, out var width, out var height))
            return null;
        _limits.CheckDimensions(width, height);
        var shrink = needs.Count > 0 ? JpegShrink(DecodeNeed.MaxShrink(needs, width, height)) : 1;
        if (shrink == 1)
            return new Opened(ImageFormat.Jpeg, null, null, (long)width * height, UprightJpeg: (width, height));
        // libvips' DCT-scaled load rounds the size down, dropping a partial last column and row; the same size here.
        var (shrunkWidth, shrunkHeight) = (width / shrink, height / shrink);
        return new Opened(ImageFormat.Jpeg, null, null, (long)shrunkWidth * shrunkHeight, new Shrunk(width, height, shrink, shrink),
            (shrunkWidth, shrunkHeight));
    }

    private DecodedImage Finish(Opened opened, DecodeAdmission.Lease lease, byte[] data, CancellationToken cancellationToken)
    {
        if (opened.UprightJpeg is { } size)
        {
            using (lease)
                return TryTurboJpeg(data, size.Width, size.Height, opened.Original) ?? RenderWithLibvips(data, opened.Original, cancellationToken);
        }
        var (format, image) = (opened.Format, opened.Image);
        if (opened.Bmp is { } header)
        {
            using (lease)
                return new DecodedImage(header.Width, header.Height, BmpDecoder.DecodeRgb(data, header), ImageFormat.Bmp, 1, data.Length) { DecodedBy = "bmp" };
        }

        if (format != ImageFormat.Svg)
        {
            using (image)
            using (lease)
                return (format == ImageFormat.Jpeg && Orientation(image!) == 1 ? TryTurboJpeg(data, image!.Width, image.Height, opened.Original) : null)
                    ?? Render(image!, format, data.Length, opened.Original, cancellationToken);
        }

        // librsvg rasterises in calls that libvips' kill cannot interrupt. The render runs on its own thread and the
        // request stops waiting at the deadline; what is left of the render is bounded by Images:MaxSvgPixels and by
        // SvgComplexity, and its image and lease are released when it ends.
        var render = Task.Run(() =>
        {
            using (image)
            using (lease)
                return Render(image!, format, data.Length, opened.Original, cancellationToken);
        }, CancellationToken.None);
        // A render abandoned at the deadline may still fail later; its exception is observed here, not lost.
        _ = render.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        try
        {
            if (!render.Wait(_limits.DecodeTimeout, cancellationToken))
                throw new ImageDecodeTimeoutException(_limits.DecodeTimeout);
        }
        catch (AggregateException)
        {
            // The render's own exception is rethrown below, unwrapped.
        }
        return render.GetAwaiter().GetResult();
    }

    /// <summary>
    /// An upright JPEG through TurboJPEG at <paramref name="width"/>×<paramref name="height"/> (shrunk on load or not);
    /// null leaves it to libvips. TurboJPEG cannot be stopped mid-decode, so, as with libvips, a decode that ends past the
    /// deadline still fails; the pixel limit bounds how long that can be.
    /// </summary>
    private DecodedImage? TryTurboJpeg(byte[] data, int width, int height, Shrunk? original)
    {
        if (_turboJpeg is null) return null;
        var started = Stopwatch.GetTimestamp();
        if (!_turboJpeg.TryDecode(data, width, height, out var rgb)) return null;
        if (Stopwatch.GetElapsedTime(started) >= _limits.DecodeTimeout)
            throw new ImageDecodeTimeoutException(_limits.DecodeTimeout);
        return new DecodedImage(width, height, rgb, ImageFormat.Jpeg, 1, data.Length)
        {
            DecodedBy = "turbojpeg",
            OriginalWidth = original?.Width ?? width,
            OriginalHeight = original?.Height ?? height,
            ToOriginalScale = original is null ? (1, 1) : (original.ScaleX, original.ScaleY),
        };
    }

    /// <summary>
    /// A JPEG opened without libvips that TurboJPEG then declined (a warning, a damaged file): libvips opens and decodes
    /// it at the same size, and its <c>fail_on=truncated</c> decides, as for any JPEG it opens itself.
    /// </summary>
    private DecodedImage RenderWithLibvips(byte[] data, Shrunk? original, CancellationToken cancellationToken)
    {
        var options = original is null ? null : new VOption { { "shrink", (int)original.ScaleX } };
        using var image = Open(data, ImageFormat.Jpeg, options);
        return Render(image, ImageFormat.Jpeg, data.Length, original, cancellationToken);
    }

    private DecodedImage Render(Image image, ImageFormat format, long sourceBytes, Shrunk? original, CancellationToken cancellationToken)
    {
        var orientation = Orientation(image);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_limits.DecodeTimeout);
        var stopwatch = Stopwatch.StartNew();
        try
        {
            using var upright = orientation == 1 ? image.Copy() : image.Autorot();
            using var rgb = ToSrgb8(upright);
            // Killing the image on the deadline or on the caller's cancellation makes libvips stop at the next tile and
            // fail the write, so the CPU work ends with the request.
            rgb.SetProgress(Libvips.NoProgress, deadline.Token);
            var pixels = rgb.WriteToMemory<byte>();
            // libvips checks for cancellation only between tiles, so a decode can finish past the deadline without
            // being stopped; the limit still holds.
            if (stopwatch.Elapsed >= _limits.DecodeTimeout)
                throw new ImageDecodeTimeoutException(_limits.DecodeTimeout);
            return new DecodedImage(rgb.Width, rgb.Height, pixels, format, orientation, sourceBytes)
            {
                OriginalWidth = original?.Width ?? rgb.Width,
                OriginalHeight = original?.Height ?? rgb.Height,
                ToOriginalScale = original is null ? (1, 1) : (original.ScaleX, original.ScaleY),
            };
        }
        catch (VipsException e)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (deadline.IsCancellationRequested || stopwatch.Elapsed >= _limits.DecodeTimeout)
                throw new ImageDecodeTimeoutException(_limits.DecodeTimeout);
            throw new CorruptImageException($"The {format.Name().ToUpperInvariant()} image is corrupt or truncated: {Libvips.ErrorReason(e)}", e);
        }
    }

    private static int Orientation(Image image) => image.Contains("orientation") ? Math.Clamp((int)image.Get("orientation"), 1, 8) : 1;

    /// <summary>
    /// The integer factor to shrink this JPEG or WebP by on load for <paramref name="needs"/>; null when full resolution is
    /// needed. JPEG's DCT scaling has only 2, 4 and 8; libwebp scales by any factor, kept whole so each decoded pixel
    /// averages the same number of original ones.
    /// </summary>
    private static int? ShrinkOnLoadFactor(Image image, ImageFormat format, IReadOnlyList<DecodeNeed> needs)
    {
        var turned = Orientation(image) >= 5;
        var (width, height) = turned ? (image.Height, image.Width) : (image.Width, image.Height);
        var most = DecodeNeed.MaxShrink(needs, width, height);
        var factor = format == ImageFormat.Jpeg ? JpegShrink(most) : (int)Math.Min(Math.Floor(most), 64);
        return factor > 1 ? factor : null;
    }

    /// <summary>JPEG's DCT scaling has only 2, 4 and 8: the largest of them within <paramref name="most"/>, or 1.</summary>
    private static int JpegShrink(double most) => most >= 8 ? 8 : most >= 4 ? 4 : most >= 2 ? 2 : 1;

    /// <summary>
    /// Opening reads the header only; pixels are decoded later, when they are written out, in one top-to-bottom pass. An
    /// image that EXIF orientation 3–8 turns or flips upside down is read bottom first or column by column, which a
    /// sequential load fails past its small cache ("out of order read", seen on 3000-pixel photos), so it is opened for
    /// <paramref name="random"/> access.
    /// </summary>
    private static Image Open(byte[] data, ImageFormat format, VOption? options = null, bool random = false)
    {
        try
        {
            return Image.NewFromBuffer(data, access: random ? Enums.Access.Random : Enums.Access.Sequential, failOn: Enums.FailOn.Truncated,
                kwargs: options);
        }
        catch (VipsException e)
        {
            throw LoadFailure(format, e);
        }
    }

    /// <summary>The scale at which an SVG of this declared size renders within <paramref name="maxPixels"/>; null when it already fits.</summary>
    public static double? SvgScale(int width, int height, long maxPixels)
    {
        var pixels = (double)width * height;
        return pixels <= maxPixels ? null : Math.Sqrt(maxPixels / pixels) * 0.999;
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

    private static ImageRejectedException LoadFailure(ImageFormat format, VipsException e)
    {
        var reason = Libvips.ErrorReason(e);
        if (format is ImageFormat.Heif or ImageFormat.Avif && reason.Contains("no decoder", StringComparison.OrdinalIgnoreCase) ||
            reason.Contains("is not a known", StringComparison.OrdinalIgnoreCase))
            return new UnsupportedImageFormatException($"This {format.Name().ToUpperInvariant()} image cannot be decoded by the bundled libvips: {reason}");
        return new CorruptImageException($"The data looks like {format.Name().ToUpperInvariant()} but its header cannot be read: {reason}", e);
    }
}
