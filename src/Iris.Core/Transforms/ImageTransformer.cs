using System.Diagnostics;
using Iris.Core.Imaging;
using NetVips;

namespace Iris.Core.Transforms;

/// <summary>Bounds on one transformation, on top of the intake's <see cref="ImageLimits"/>.</summary>
public sealed record TransformLimits(long MaxOutputPixels, int MaxPipelineLength, TimeSpan TimeBudget, int MaxFrames, int DefaultQuality, int MaxConcurrent)
{
    public static TransformLimits Default { get; } = new(40_000_000, 16, TimeSpan.FromSeconds(30), 256, 80, 0);
}

/// <summary>What the header says about a source, read without decoding its pixels.</summary>
public sealed record SourceInfo(ImageFormat Format, int Width, int Height, int Frames, int Orientation, long Bytes);

/// <summary>An encoded result.</summary>
public sealed record TransformResult(byte[] Bytes, ImageFormat Format, int Width, int Height)
{
    public string MediaType => Format.MediaType();
}

/// <summary>
/// Runs a <see cref="TransformPipeline"/> on untrusted bytes, imgproxy style: the intake's checks (byte limit, format
/// sniffed from content, pixel and frame limits from the header) come first; then the output size of every step is
/// worked out from the header alone and checked against Transforms:MaxOutputPixels; only then are pixels touched.
/// A leading resize of a JPEG/WebP/HEIF source is done by libvips thumbnail, which decodes at a reduced scale
/// (shrink-on-load), so a 12 MP photo becomes an 800 px thumbnail without ever being decoded at full size.
/// </summary>
public sealed class ImageTransformer
{
    static ImageTransformer() => Libvips.EnsureConfigured();

    private readonly ImageLimits _imageLimits;
    private readonly DecodeAdmission _admission;
    private readonly SemaphoreSlim? _gate;

    public ImageTransformer(ImageLimits imageLimits, TransformLimits limits, DecodeAdmission? admission = null)
    {
        _imageLimits = imageLimits;
        _admission = admission ?? DecodeAdmission.Unlimited;
        Limits = limits;
        Parser = new TransformPipelineParser(limits.MaxPipelineLength);
        var concurrency = limits.MaxConcurrent > 0 ? limits.MaxConcurrent : Environment.ProcessorCount;
        _gate = new SemaphoreSlim(concurrency, concurrency);
    }

    public TransformLimits Limits { get; }
    public ImageLimits ImageLimits => _imageLimits;
    public TransformPipelineParser Parser { get; }

    /// <summary>Checks the intake limits and reads the header; throws the intake's precise exceptions on bad input.</summary>
    public SourceInfo Inspect(byte[] data)
    {
        var format = Sniff(data);
        if (format == ImageFormat.Bmp)
        {
            var bmp = BmpDecoder.ReadHeader(data);
            CheckPixels(bmp.Width, bmp.Height);
            return new SourceInfo(format, bmp.Width, bmp.Height, 1, 1, data.Length);
        }
        using var header = OpenHeader(data, format);
        var (orientation, frames) = CheckHeader(header);
        var swap = orientation >= 5;
        return new SourceInfo(format, swap ? header.Height : header.Width, swap ? header.Width : header.Height, frames, orientation, data.Length);
    }

    /// <summary>
    /// Waits for a transform slot (Transforms:MaxConcurrent), so a burst of requests queues instead of oversubscribing the
    /// cores and memory, and answers by the time budget even when libvips cannot be stopped at once: the work runs on the
    /// thread pool, is killed on the budget or the caller's cancellation, and keeps its slot until it has really ended.
    /// </summary>
    public async Task<TransformResult> TransformAsync(byte[] data, TransformPipeline pipeline, string? accept, CancellationToken cancellationToken)
    {
        // The wait for a slot counts against the budget: slots held by work that is still being stopped must not
        // leave later requests waiting without limit.
        var started = Stopwatch.GetTimestamp();
        if (!await _gate!.WaitAsync(Limits.TimeBudget, cancellationToken))
            throw new TransformTimeoutException(Limits.TimeBudget);
        Task<TransformResult> work;
        try
        {
            work = Task.Run(() => TransformWhenAdmittedAsync(data, pipeline, accept, cancellationToken), CancellationToken.None);
        }
        catch
        {
            _gate.Release();
            throw;
        }
        // Observes the outcome too: work abandoned at the budget may still fail later, and nobody else will look.
        _ = work.ContinueWith(t => { _ = t.Exception; _gate.Release(); },
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        try
        {
            var left = Limits.TimeBudget - Stopwatch.GetElapsedTime(started);
            return await work.WaitAsync(left > TimeSpan.Zero ? left : TimeSpan.Zero, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new TransformTimeoutException(Limits.TimeBudget);
        }
    }

    public TransformResult Transform(byte[] data, TransformPipeline pipeline, string? accept, CancellationToken cancellationToken = default)
    {
        var (format, target, pixels) = CheckIntake(data, pipeline, accept);
        using var lease = _admission.Admit(pixels, outlivesCall: false, cancellationToken);
        return TransformAdmitted(data, pipeline, format, target, cancellationToken);
    }

    /// <summary><see cref="Transform"/> whose wait for room in the decode budget holds no thread.</summary>
    private async Task<TransformResult> TransformWhenAdmittedAsync(byte[] data, TransformPipeline pipeline, string? accept, CancellationToken cancellationToken)
    {
        var (format, target, pixels) = CheckIntake(data, pipeline, accept);
        using var lease = await _admission.AdmitAsync(pixels, outlivesCall: false, cancellationToken);
        return TransformAdmitted(data, pipeline, format, target, cancellationToken);
    }

    /// <summary>The source's and the output's formats, and the pixels the source decodes to, from the header alone.</summary>
    private (ImageFormat Format, ImageFormat Target, long Pixels) CheckIntake(byte[] data, TransformPipeline pipeline, string? accept)
    {
        var format = Sniff(data);
        var target = ResolveFormat(pipeline.Output.Format, format, accept);
        if (!OutputFormats.IsSupported(target))
            throw new OutputFormatUnsupportedException(
                $"This server's libvips cannot write {target.Name().ToUpperInvariant()}; format must be one of {string.Join(", ", OutputFormats.Supported.Select(f => f.Name()))} (or auto).");
        var source = Inspect(data);
        return (format, target, (long)source.Width * source.Height * source.Frames);
    }

    private TransformResult TransformAdmitted(byte[] data, TransformPipeline pipeline, ImageFormat format, ImageFormat target, CancellationToken cancellationToken)
    {
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(Limits.TimeBudget);
        var clock = Stopwatch.StartNew();
        try
        {
            IReadOnlyList<ITransformStep> steps = [];
            var image = format is ImageFormat.Gif or ImageFormat.WebP && target is ImageFormat.Gif or ImageFormat.WebP
                    && TransformAnimation(data, format, pipeline, budget.Token) is { } animation
                ? animation
                : format == ImageFormat.Bmp ? LoadBmp(data) : Load(data, format, pipeline, out steps);
            if (format == ImageFormat.Bmp) steps = pipeline.Steps;
            // Killing the source stops every evaluation that pulls from it, including steps that measure the image
            // (trim, normalize, smart crop) before the output is written.
            image.SetProgress(Libvips.NoProgress, budget.Token);
            try
            {
                foreach (var step in steps)
                {
                    budget.Token.ThrowIfCancellationRequested();
                    var next = step.Apply(image);
                    image.Dispose();
                    image = next;
                    CheckOutput(step.Op, image.Width, image.Height);
                }
                using var final = PrepareForSave(image, target, pipeline.Output);
                final.SetProgress(Libvips.NoProgress, budget.Token);
                var bytes = ImageEncoder.Encode(final, target, pipeline.Output, Limits.DefaultQuality);
                // libvips checks for cancellation only between progress ticks; work that finished late still broke the budget.
                if (clock.Elapsed >= Limits.TimeBudget)
                    throw new TransformTimeoutException(Limits.TimeBudget);
                return new TransformResult(bytes, target, final.Width, final.Height);
            }
            finally
            {
                image.Dispose();
            }
        }
        catch (Exception e) when (e is VipsException or OperationCanceledException)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (budget.IsCancellationRequested || clock.Elapsed >= Limits.TimeBudget)
                throw new TransformTimeoutException(Limits.TimeBudget);
            if (e is OperationCanceledException) throw;
            throw new CorruptImageException($"The {format.Name().ToUpperInvariant()} image could not be processed (corrupt or truncated data): {Libvips.ErrorReason(e)}", e);
        }
    }

    /// <summary>
    /// <c>auto</c> takes AVIF, then WebP, when the client's Accept header lists them; otherwise, like <c>source</c>, the
    /// input's own format when it can be written, PNG for BMP/SVG, JPEG for HEIF without a HEVC encoder.
    /// </summary>
    public static ImageFormat ResolveFormat(OutputFormat requested, ImageFormat source, string? accept)
    {
        switch (requested)
        {
            case OutputFormat.Jpeg: return ImageFormat.Jpeg;
            case OutputFormat.Png: return ImageFormat.Png;
            case OutputFormat.WebP: return ImageFormat.WebP;
            case OutputFormat.Avif: return ImageFormat.Avif;
            case OutputFormat.Heif: return ImageFormat.Heif;
            case OutputFormat.Tiff: return ImageFormat.Tiff;
            case OutputFormat.Gif: return ImageFormat.Gif;
            case OutputFormat.Bmp: return ImageFormat.Bmp;
            case OutputFormat.Auto when Accepts(accept, "image/avif") && OutputFormats.IsSupported(ImageFormat.Avif):
                return ImageFormat.Avif;
            case OutputFormat.Auto when Accepts(accept, "image/webp") && OutputFormats.IsSupported(ImageFormat.WebP):
                return ImageFormat.WebP;
        }
        return source switch
        {
            ImageFormat.Bmp or ImageFormat.Svg => ImageFormat.Png,
            ImageFormat.Heif or ImageFormat.Avif when !OutputFormats.IsSupported(source) => ImageFormat.Jpeg,
            _ => source,
        };
    }

    /// <summary>Which of auto's choices the Accept header allows; part of a cached result's key.</summary>
    public static string AutoChoice(string? accept) =>
        Accepts(accept, "image/avif") && OutputFormats.IsSupported(ImageFormat.Avif) ? "avif"
        : Accepts(accept, "image/webp") && OutputFormats.IsSupported(ImageFormat.WebP) ? "webp" : "source";

    private static bool Accepts(string? accept, string mediaType)
    {
        if (string.IsNullOrEmpty(accept)) return false;
        foreach (var part in accept.Split(','))
        {
            var fields = part.Split(';', StringSplitOptions.TrimEntries);
            if (!fields[0].Equals(mediaType, StringComparison.OrdinalIgnoreCase)) continue;
            return !fields.Skip(1).Any(f => f.Replace(" ", "") is "q=0" or "q=0.0" or "q=0.00" or "q=0.000");
        }
        return false;
    }

    private ImageFormat Sniff(byte[] data)
    {
        if (data.Length == 0)
            throw new EmptyImageException();
        if (data.Length > _imageLimits.MaxBytes)
            throw new ImageTooLargeException(data.Length, _imageLimits.MaxBytes);
        return ImageFormatSniffer.Sniff(data)
            ?? throw new UnsupportedImageFormatException(
                "The data is not an image in a supported format (JPEG, PNG, GIF, WebP, TIFF, BMP, HEIF/AVIF, SVG); " +
                "the format is detected from the file's content, not its name or Content-Type.");
    }

    /// <summary>Opens the source (header only; pixels come later, on demand). An SVG larger than Images:MaxSvgPixels
    /// is opened at the scale that fits, as in <see cref="ImageDecoder"/>.</summary>
    private Image OpenHeader(byte[] data, ImageFormat format)
    {
        if (format == ImageFormat.Svg)
            SvgComplexity.Check(data);
        try
        {
            var image = Image.NewFromBuffer(data, failOn: Enums.FailOn.Truncated);
            if (format != ImageFormat.Svg) return image;
            using (image)
            {
                CheckPixels(image.Width, image.Height);
                return ImageDecoder.SvgScale(image.Width, image.Height, _imageLimits.MaxSvgPixels) is { } scale
                    ? Image.NewFromBuffer(data, failOn: Enums.FailOn.Truncated, kwargs: new VOption { { "scale", scale } })
                    : image.Copy();
            }
        }
        catch (VipsException e)
        {
            var reason = Libvips.ErrorReason(e);
            if (reason.Contains("no decoder", StringComparison.OrdinalIgnoreCase) || reason.Contains("is not a known", StringComparison.OrdinalIgnoreCase))
                throw new UnsupportedImageFormatException($"This {format.Name().ToUpperInvariant()} image cannot be decoded by the bundled libvips: {reason}");
            throw new CorruptImageException($"The data looks like {format.Name().ToUpperInvariant()} but its header cannot be read: {reason}", e);
        }
    }

    private (int Orientation, int Frames) CheckHeader(Image header)
    {
        CheckPixels(header.Width, header.Height);
        var frames = header.Contains("n-pages") ? Math.Max(1, (int)header.Get("n-pages")) : 1;
        if (frames > Limits.MaxFrames)
            throw new TooManyFramesException(frames, Limits.MaxFrames);
        var orientation = header.Contains("orientation") ? Math.Clamp((int)header.Get("orientation"), 1, 8) : 1;
        return (orientation, frames);
    }

    private void CheckPixels(int width, int height) => _imageLimits.CheckDimensions(width, height);

    private void CheckOutput(string op, int width, int height)
    {
        if ((long)width * height > Limits.MaxOutputPixels)
            throw new OutputTooLargeException(
                $"{op} would produce {width}×{height} = {(long)width * height:N0} pixels; the limit is {Limits.MaxOutputPixels:N0} (Transforms:MaxOutputPixels). Ask for a smaller size.", op);
    }

    /// <summary>Follows every step's output size from the header's size, so an oversized request fails before any pixel work.</summary>
    private void CheckPlannedSizes(IReadOnlyList<ITransformStep> steps, int width, int height)
    {
        foreach (var step in steps)
        {
            (width, height) = step.OutputSize(width, height);
            CheckOutput(step.Op, width, height);
        }
    }

    /// <summary>
    /// An animated GIF or WebP written as GIF or WebP stays animated: every frame goes through the steps and the frames
    /// are joined again. Null (so the first frame alone is used) when the source is still, when all its frames together
    /// exceed Images:MaxPixels, or when a content-dependent step (smart crop, trim) gives frames of different sizes.
    /// </summary>
    private Image? TransformAnimation(byte[] data, ImageFormat format, TransformPipeline pipeline, CancellationToken token)
    {
        int width, pageHeight, frames;
        using (var header = OpenHeader(data, format))
        {
            (_, frames) = CheckHeader(header);
            (width, pageHeight) = (header.Width, header.Height);
        }
        if (frames < 2 || (long)width * pageHeight * frames > _imageLimits.MaxPixels) return null;
        CheckPlannedSizes(pipeline.Steps, width, pageHeight);

        using var all = Image.NewFromBuffer(data, failOn: Enums.FailOn.Truncated, kwargs: new VOption { { "n", -1 } });
        var frameHeight = all.PageHeight;
        var count = all.Height / frameHeight;
        var done = new List<Image>(count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                token.ThrowIfCancellationRequested();
                using var frame = all.Crop(0, i * frameHeight, all.Width, frameHeight);
                var current = ToWorkingSpace(frame);
                foreach (var step in pipeline.Steps)
                {
                    var next = step.Apply(current);
                    current.Dispose();
                    current = next;
                }
                done.Add(current);
                if (current.Width != done[0].Width || current.Height != done[0].Height) return null;
            }
            var (w, h) = (done[0].Width, done[0].Height);
            if ((long)w * h * count > Limits.MaxOutputPixels) return null;
            using var joined = Image.Arrayjoin([.. done], across: 1);
            return joined.Mutate(m => m.Set(GValue.GIntType, "page-height", h));
        }
        finally
        {
            foreach (var image in done) image.Dispose();
        }
    }

    private Image LoadBmp(byte[] data)
    {
        var header = BmpDecoder.ReadHeader(data);
        CheckPixels(header.Width, header.Height);
        var rgb = BmpDecoder.DecodeRgb(data, header);
        using var raw = Image.NewFromMemory(rgb, header.Width, header.Height, 3, Enums.BandFormat.Uchar);
        return raw.Copy(interpretation: Enums.Interpretation.Srgb);
    }

    private Image Load(byte[] data, ImageFormat format, TransformPipeline pipeline, out IReadOnlyList<ITransformStep> remaining)
    {
        remaining = pipeline.Steps;
        int orientation, width, height;
        bool hasProfile;
        using (var header = OpenHeader(data, format))
        {
            (orientation, _) = CheckHeader(header);
            (width, height) = orientation >= 5 ? (header.Height, header.Width) : (header.Width, header.Height);
            hasProfile = header.Contains("icc-profile-data");
        }
        CheckPlannedSizes(pipeline.Steps, width, height);
        var toSrgb = hasProfile && pipeline.Output.Icc == IccHandling.Srgb;

        if (pipeline.Steps is [IScalingStep resize, ..] && format is ImageFormat.Jpeg or ImageFormat.WebP)
        {
            var (w, h) = resize.ScaledSize(width, height);
            var factor = Math.Min((double)width / w, (double)height / h);
            // Shrink-on-load: the decoder itself skips detail, like vips thumbnail. Stop at twice the target size so
            // the final resize (with the requested kernel) still has pixels to work with, as thumbnail does.
            var load = new VOption();
            if (format == ImageFormat.Jpeg)
                load.Add("shrink", factor >= 16 ? 8 : factor >= 8 ? 4 : factor >= 4 ? 2 : 1);
            else if (factor >= 2)
                load.Add("scale", 2 / factor);
            // Sequential access streams the decode; rotating needs the whole (already shrunk) image at hand.
            using var shrunk = Image.NewFromBuffer(data, access: orientation == 1 ? Enums.Access.Sequential : Enums.Access.Random,
                failOn: Enums.FailOn.Truncated, kwargs: load);
            using var shrunkUpright = orientation == 1 ? shrunk.Copy() : shrunk.Autorot();
            using var shrunkSrgb = toSrgb ? shrunkUpright.IccTransform("srgb", embedded: true) : shrunkUpright.Copy();
            using var working = ToWorkingSpace(shrunkSrgb);
            using var scaled = ResizeStep.ScaleExactly(working, w, h, resize.Kernel);
            remaining = pipeline.Steps.Skip(1).ToList();
            return resize.Finish(scaled);
        }

        using var image = OpenHeader(data, format);
        using var upright = orientation == 1 ? image.Copy() : image.Autorot();
        using var converted = toSrgb ? upright.IccTransform("srgb", embedded: true) : upright.Copy();
        return ToWorkingSpace(converted);
    }

    /// <summary>8-bit sRGB or grey, with or without alpha: the one form every step expects.</summary>
    private static Image ToWorkingSpace(Image image)
    {
        var interpretation = image.Interpretation;
        Image converted;
        if (interpretation is Enums.Interpretation.Bw or Enums.Interpretation.Srgb && image.Format == Enums.BandFormat.Uchar)
            return image.Copy();
        if (interpretation is Enums.Interpretation.Grey16 or Enums.Interpretation.Bw)
            converted = image.Colourspace(Enums.Interpretation.Bw);
        else if (interpretation is Enums.Interpretation.Multiband && image.Bands is 1 or 2)
            converted = image.Copy(interpretation: Enums.Interpretation.Bw);
        else if (interpretation is Enums.Interpretation.Multiband && image.Bands is 3 or 4 && image.Format == Enums.BandFormat.Uchar)
            converted = image.Copy(interpretation: Enums.Interpretation.Srgb);
        else
            converted = image.Colourspace(Enums.Interpretation.Srgb);
        using (converted)
            return ColourBands.ToUchar(converted.Copy());
    }

    private static Image PrepareForSave(Image image, ImageFormat target, OutputSettings output)
    {
        if (!image.HasAlpha() || ImageEncoder.SupportsAlpha(target))
            return image.Copy();
        var background = (output.Background ?? Rgba.White).ForBands(image.Bands - 1);
        return image.Flatten(background: background);
    }

}
