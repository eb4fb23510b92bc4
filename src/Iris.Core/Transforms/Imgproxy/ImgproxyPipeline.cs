using Iris.Core.Imaging;
using Iris.Core.Tasks.Transforms;

namespace Iris.Core.Transforms.Imgproxy;

/// <summary>
/// Turns parsed imgproxy options into the transform pipeline's typed steps, in imgproxy's fixed processing order (its
/// processing options do not define the order): trim, crop, resize (with rotation and the crop to the result), blur,
/// sharpen, pixelate, extend, padding, background. Then runs it through <see cref="TransformTask"/>, the one image path.
/// </summary>
public static class ImgproxyPipeline
{
    public static TransformPipeline Build(ImgproxyOptions o, OutputFormat? extension)
    {
        var steps = new List<ITransformStep>();
        if (o.Trim is { } trim) steps.Add(new TrimStep(trim.Threshold, trim.Colour));
        if (o.Crop is { } crop) steps.Add(new ImgproxyCropStep(crop.Width, crop.Height, crop.Gravity ?? o.Gravity));
        if (o.Width > 0 || o.Height > 0 || o.Rotate != 0)
            steps.Add(new ImgproxyResizeStep(o.ResizingType, o.Width, o.Height, o.Dpr, o.Enlarge, o.Rotate, o.Gravity));
        if (o.Blur > 0) steps.Add(new GaussianBlurStep(o.Blur));
        if (o.Sharpen > 0) steps.Add(new SharpenStep(o.Sharpen, 3, 0, 2));
        if (o.Pixelate > 1) steps.Add(new PixelateStep(o.Pixelate));
        if (o.Extend && (o.Width > 0 || o.Height > 0)) steps.Add(new ImgproxyExtendStep(o.Width, o.Height, o.ExtendGravity, o.Dpr, o.Background));
        if (o.Padding is { } padding) steps.Add(new ImgproxyPaddingStep(padding, o.Dpr, o.Background));
        if (o.Background is { } background) steps.Add(new FlattenStep(background));
        var output = new OutputSettings
        {
            // The URL's extension wins over the format option, as in imgproxy; with neither, the Accept header decides.
            Format = extension ?? o.Format ?? OutputFormat.Auto,
            Quality = o.Quality > 0 ? o.Quality : null,
            KeepMetadata = !o.StripMetadata,
            Background = o.Background,
        };
        return new TransformPipeline(steps, output);
    }

    /// <summary>
    /// The pipeline for this source and client: the output format resolved (so format_quality can apply), and the
    /// quality imgproxy would use: quality, else the format's format_quality, else the server's default.
    /// </summary>
    public static TransformPipeline ForSource(TransformPipeline pipeline, ImgproxyOptions o, byte[] source, string? accept)
    {
        if (ImageFormatSniffer.Sniff(source) is not { } sourceFormat) return pipeline;
        var target = ImageTransformer.ResolveFormat(pipeline.Output.Format, sourceFormat, accept);
        var format = ToOutputFormat(target);
        var quality = pipeline.Output.Quality ?? (o.FormatQuality.TryGetValue(format, out var q) && q > 0 ? q : null);
        return pipeline with { Output = pipeline.Output with { Format = format, Quality = quality } };
    }

    private static OutputFormat ToOutputFormat(ImageFormat format) => format switch
    {
        ImageFormat.Jpeg => OutputFormat.Jpeg,
        ImageFormat.Png => OutputFormat.Png,
        ImageFormat.WebP => OutputFormat.WebP,
        ImageFormat.Avif => OutputFormat.Avif,
        ImageFormat.Heif => OutputFormat.Heif,
        ImageFormat.Tiff => OutputFormat.Tiff,
        ImageFormat.Gif => OutputFormat.Gif,
        _ => OutputFormat.Source,
    };

    /// <summary>
    /// Runs the pipeline; with max_bytes, lowers the quality and runs it again until the result fits, by imgproxy's
    /// steps (×0.25, ×0.5 or ×0.75 by how far over it is, stopping at quality 10). Only lossy formats can shrink so.
    /// </summary>
    public static async Task<TransformResult> RunAsync(TransformTask transform, TransformPipeline pipeline, byte[] source, long maxBytes,
        int defaultQuality, CancellationToken cancellationToken)
    {
        var result = await transform.RunAsync(new TransformTask.Parameters(pipeline, null), source, cancellationToken);
        if (maxBytes <= 0 || result.Format is not (ImageFormat.Jpeg or ImageFormat.WebP or ImageFormat.Avif or ImageFormat.Heif or ImageFormat.Tiff))
            return result;
        var quality = pipeline.Output.Quality ?? defaultQuality;
        while (result.Bytes.Length > maxBytes && quality > 10)
        {
            var over = (double)result.Bytes.Length / maxBytes;
            quality = Math.Max(1, (int)(quality * (over > 3 ? 0.25 : over > 1.5 ? 0.5 : 0.75)));
            var lower = pipeline with { Output = pipeline.Output with { Quality = quality } };
            result = await transform.RunAsync(new TransformTask.Parameters(lower, null), source, cancellationToken);
        }
        return result;
    }
}
