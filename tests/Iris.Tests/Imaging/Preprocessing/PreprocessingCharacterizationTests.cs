using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using Iris.Core.Classification;
using Iris.Core.HuggingFace;
using Iris.Core.Imaging;
using Iris.Core.Imaging.Preprocessing;
using Iris.Core.Ocr;
using Iris.Tests.Support;

namespace Iris.Tests.Imaging.Preprocessing;

/// <summary>
/// Holds every model's pre-processing to the outputs it produced before the pre-processing kit was merged: the
/// SHA-256 of each float tensor (or byte raster), bit for bit, over shared photos and odd shapes. The expected hashes
/// were recorded on the old code (commit d331666, before the kit); set IRIS_RECORD_PREPROCESSING=1 to record them again
/// (only on purpose).
/// </summary>
public sealed class PreprocessingCharacterizationTests
{
    private static readonly string FixturePath =
        Path.Combine(TestPaths.RepositoryRoot, "tests", "Iris.Tests", "Imaging", "Fixtures", "preprocessing-characterization.json");

    private static readonly string[] Photos =
    [
        Path.Combine("real", "dog.jpg"), Path.Combine("real", "coco-000000000285.jpg"), Path.Combine("real", "faces-13.jpg"),
        Path.Combine("flowers", "flower-00.png"), Path.Combine("flowers", "flower-07.png"),
    ];

    /// <summary>Odd shapes: a single pixel, one-pixel-thin lines both ways, odd widths.</summary>
    private static readonly (int Width, int Height)[] Shapes = [(1, 1), (3, 200), (200, 3), (37, 23), (641, 479), (1001, 7)];

    private static IEnumerable<(string Name, DecodedImage Image)> Images()
    {
        var decoder = new ImageDecoder(ImageLimits.Default);
        foreach (var photo in Photos)
            yield return (photo.Replace(Path.DirectorySeparatorChar, '/'),
                decoder.Decode(File.ReadAllBytes(Path.Combine(TestPaths.Shared, "testdata", photo))));
        foreach (var (width, height) in Shapes)
        {
            var rgb = new byte[width * height * 3];
            new Random(width * 7919 + height).NextBytes(rgb);
            yield return ($"random-{width}x{height}", new DecodedImage(width, height, rgb, ImageFormat.Png, 1, rgb.Length));
        }
    }

    private static string Hash(ReadOnlySpan<float> values) => Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(values)));
    private static string Hash(ReadOnlySpan<byte> values) => Convert.ToHexStringLower(SHA256.HashData(values));

    /// <summary>
    /// The old code normalised with four different float formulas; the kit has one (<see cref="PixelNormalization"/>).
    /// Where a model's formula was not the kit's, the test recomputes the old formula from the kit's un-normalised
    /// output (which must match the recorded hash bit for bit, so resizing, layout and channel order are unchanged) and
    /// holds the kit's normalised tensor within <see cref="Tolerance"/> of it: a few float32 rounding steps (the largest
    /// seen on these images is 7.2e-7, three steps at 2.23, in the torchvision classifier's input).
    /// </summary>
    private const float Tolerance = 2e-6f;

    private sealed class Deviation
    {
        public float Max;
        public string Where = "";
    }

    private static string Legacy(string name, float[] raw, float[] kit, Func<int, float, float?> legacy, Deviation deviation)
    {
        var old = new float[raw.Length];
        for (var i = 0; i < raw.Length; i++)
        {
            old[i] = legacy(i, raw[i]) ?? raw[i];
            var difference = Math.Abs(old[i] - kit[i]);
            if (!(difference <= deviation.Max))
            {
                deviation.Max = float.IsNaN(difference) ? float.PositiveInfinity : difference;
                deviation.Where = $"{name}[{i}]: old {old[i]:R}, kit {kit[i]:R}";
            }
        }
        return Hash(old);
    }

    /// <summary>The RGB channel of tensor element <paramref name="index"/>.</summary>
    private static int RgbChannel(int index, TensorFormat format, int plane)
    {
        var tensorChannel = format.Layout == TensorLayout.Nchw ? index / plane : index % 3;
        return format.Bgr ? 2 - tensorChannel : tensorChannel;
    }

    private static IEnumerable<(string Case, string Hash)> Outputs(Deviation deviation)
    {
        var clip = HfImageProcessor.FromFile(Path.Combine(TestPaths.ModelMirror, "clip-tiny", "preprocessor_config.json"));
        var captioner = HfImageProcessor.FromFile(Path.Combine(TestPaths.ModelMirror, "flower-captioner-tiny", "preprocessor_config.json"));
        var classifiers = new (string Name, ClassifierSettings Settings)[]
        {
            ("torchvision", new ClassifierSpec { Preset = "torchvision", Model = "m.onnx" }.Resolve("m")),
            ("raw-96x80", new ClassifierSpec { Preset = "raw", Model = "m.onnx", InputWidth = 96, InputHeight = 80 }.Resolve("m")),
            ("tf-128", new ClassifierSpec { Preset = "tf", Model = "m.onnx", InputWidth = 128, InputHeight = 128 }.Resolve("m")),
            ("bgr-opencv-0..255-nhwc-crop", new ClassifierSpec
            {
                Preset = "torchvision", Model = "m.onnx", ChannelOrder = "bgr", Antialias = false, PixelRange = "0..255", Layout = "nhwc",
                InputWidth = 99, InputHeight = 77, ResizeSize = 113, Mean = [123f, 116f, 103f], Std = [58f, 57f, 57f],
            }.Resolve("m")),
        };
        var ocr = new OcrSpec { DetectionModel = "d", RecognitionModel = "r", Dictionary = "k" };
        static TensorFormat Raw(TensorFormat format) => format with { Normalization = PixelNormalization.None };
        // PaddleOCR's mean/std are in the tensor's channel order; the old writer folded them as x·1/(255·std) − mean/std.
        static TensorFormat OcrFormat(bool bgr, float[] mean, float[] std) => new(TensorLayout.Nchw, bgr,
            new PixelNormalization(1.0 / 255, PixelNormalization.ToRgbOrder(mean, bgr), PixelNormalization.ToRgbOrder(std, bgr)));
        static Func<int, float, float?> OldOcr(int width, int height, int usedWidth, float[] mean, float[] std) => (i, v) =>
        {
            int plane = width * height, t = i / plane, x = i % plane % width;
            return x < usedWidth ? v * (1f / (255f * std[t])) - mean[t] / std[t] : null;
        };

        foreach (var (name, image) in Images())
        {
            yield return ($"{name}/decoded", Hash(image.Rgb.AsSpan(0, image.Width * image.Height * 3)));

            // YOLOX letterbox: the manifest default (BGR, pad 114, raw 0..255) and an RGB, normalised variant.
            var yolox = new float[3 * 416 * 416];
            var ratio = Letterbox.Fill(image, yolox, 416, 416, 114f, new TensorFormat(TensorLayout.Nchw, true, PixelNormalization.None));
            yield return ($"{name}/yolox-416-bgr", $"{Hash(yolox)} r={ratio:R}");
            float[] yMean = [0.485f, 0.456f, 0.406f], yStd = [0.229f, 0.224f, 0.225f];
            var yoloxFormat = new TensorFormat(TensorLayout.Nchw, false, new PixelNormalization(1f / 255, yMean, yStd));
            var yoloxRaw = new float[3 * 320 * 256];
            Letterbox.Fill(image, yoloxRaw, 320, 256, 0f, Raw(yoloxFormat));
            var yoloxKit = new float[3 * 320 * 256];
            Letterbox.Fill(image, yoloxKit, 320, 256, 0f, yoloxFormat);
            yield return ($"{name}/yolox-320x256-rgb-normalised", Legacy($"{name}/yolox-normalised", yoloxRaw, yoloxKit,
                (i, v) => (v * (1f / 255) - yMean[i / (320 * 256)]) / yStd[i / (320 * 256)], deviation));

            // UltraFace: stretch to 320×240 with OpenCV-style bilinear (no antialias), (x − 127) / 128, both channel orders.
            foreach (var bgr in new[] { false, true })
            {
                var pixels = new byte[3 * 320 * 240];
                PillowResampler.Resize(image.Rgb, image.Width, image.Height, ResizePlan.Stretch(320, 240), ResampleFilter.Bilinear, antialias: false, pixels);
                var faces = new float[3 * 320 * 240];
                TensorWriter.Write(pixels, 320, 240, new TensorFormat(TensorLayout.Nchw, bgr, new PixelNormalization(1, [127f, 127f, 127f], [128f, 128f, 128f])), faces);
                yield return ($"{name}/ultraface-320x240-{(bgr ? "bgr" : "rgb")}", Hash(faces));
            }

            // Classifier presets, as ImageClassifier.Preprocess does it; the old writer folded (x·scale − mean)/std into x·m + o.
            foreach (var (preset, settings) in classifiers)
            {
                var plan = settings.Resize == ClassifierResize.CenterCrop
                    ? ResizePlan.ShorterSideThenCenterCrop(image.Width, image.Height, settings.ResizeSize, settings.InputWidth, settings.InputHeight)
                    : ResizePlan.Stretch(settings.InputWidth, settings.InputHeight);
                var pixels = new byte[plan.Width * plan.Height * 3];
                PillowResampler.Resize(image.Rgb, image.Width, image.Height, plan, ResampleFilter.Bilinear, settings.Antialias, pixels);
                var raw = new float[3 * settings.InputWidth * settings.InputHeight];
                TensorWriter.Write(pixels, plan.Width, plan.Height, Raw(settings.Format), raw);
                var kit = new float[raw.Length];
                TensorWriter.Write(pixels, plan.Width, plan.Height, settings.Format, kit);
                var n = settings.Format.Normalization;
                var scale = (float)n.Scale;
                yield return ($"{name}/classifier-{preset}", Legacy($"{name}/classifier-{preset}", raw, kit, (i, v) =>
                {
                    var c = RgbChannel(i, settings.Format, plan.Width * plan.Height);
                    return v * (scale / n.Std[c]) + -n.Mean[c] / n.Std[c];
                }, deviation));
            }

            // The statistics thumbnail (info): longer side 256, antialiased bilinear.
            var thumbPlan = ResizePlan.FitWithin(image.Width, image.Height, 256);
            yield return ($"{name}/thumbnail-256", Hash(PillowResampler.Resize(image, thumbPlan).Rgb));

            // Hugging Face processors: CLIP (shortest edge 128, bicubic, centre crop) and the captioner (128×128 bilinear).
            foreach (var (model, processor) in new[] { ("clip", clip), ("captioner", captioner) })
            {
                var (w, h) = processor.OutputSize(image);
                var tensor = new float[3 * w * h];
                processor.Fill(image, tensor);
                yield return ($"{name}/hf-{model}", Hash(tensor));
            }

            // PP-OCR detection input: RapidOCR's vertical padding of line-like images, then DetResizeForTest.
            var det = ocr.Detection;
            var detFormat = OcrFormat(det.ChannelOrder == "bgr", det.Mean, det.Std);
            var pad = PpOcrReader.PaddingRows(image.Width, image.Height, det);
            var (dw, dh) = PpOcrReader.DetectionSize(image.Width, image.Height + 2 * pad, det);
            var detRaw = new float[3 * dw * dh];
            PpOcrReader.WriteSlot(image, detRaw, dw, dh, dw, dh, Raw(detFormat), pad);
            var detKit = new float[3 * dw * dh];
            PpOcrReader.WriteSlot(image, detKit, dw, dh, dw, dh, detFormat, pad);
            yield return ($"{name}/ocr-det", $"{Legacy($"{name}/ocr-det", detRaw, detKit, OldOcr(dw, dh, dw, det.Mean, det.Std), deviation)} {dw}x{dh} pad={pad}");

            // A perspective crop of a tilted quadrilateral, then the direction classifier's and recogniser's inputs.
            float W = image.Width - 1, H = image.Height - 1;
            PointF[] quad = [new(W * 0.1f, H * 0.2f), new(W * 0.8f, H * 0.1f), new(W * 0.9f, H * 0.6f), new(W * 0.15f, H * 0.7f)];
            var crop = PerspectiveCrop.TryCrop(image, quad, ocr.Recognition.VerticalRatio);
            if (crop is null)
            {
                yield return ($"{name}/ocr-crop", "degenerate");
                continue;
            }
            yield return ($"{name}/ocr-crop", $"{Hash(crop.Rgb)} {crop.Width}x{crop.Height}");
            yield return ($"{name}/ocr-crop-rot180", Hash(Rotation.HalfTurn(crop).Rgb));
            yield return ($"{name}/ocr-crop-rot90", Hash(Rotation.CounterClockwise(crop).Rgb));

            float[] half = [0.5f, 0.5f, 0.5f];
            var clsFormat = OcrFormat(true, half, half);
            var window = PpOcrReader.LeadingWindow(crop, 192.0 / 48);
            var clsWidth = PpOcrReader.ResizedWidth(window, 48, 192);
            var clsRaw = new float[3 * 192 * 48];
            PpOcrReader.WriteSlot(window, clsRaw, 192, 48, clsWidth, 48, Raw(clsFormat));
            var clsKit = new float[3 * 192 * 48];
            PpOcrReader.WriteSlot(window, clsKit, 192, 48, clsWidth, 48, clsFormat);
            yield return ($"{name}/ocr-cls", Legacy($"{name}/ocr-cls", clsRaw, clsKit, OldOcr(192, 48, clsWidth, half, half), deviation));

            var rec = ocr.Recognition;
            var recFormat = OcrFormat(rec.ChannelOrder == "bgr", rec.Mean, rec.Std);
            var recWidth = Math.Max(1, (int)Math.Ceiling(rec.InputHeight * Math.Max((double)rec.MinWidth / rec.InputHeight, (double)crop.Width / crop.Height)));
            var recUsed = PpOcrReader.ResizedWidth(crop, rec.InputHeight, recWidth);
            var recRaw = new float[3 * recWidth * rec.InputHeight];
            PpOcrReader.WriteSlot(crop, recRaw, recWidth, rec.InputHeight, recUsed, rec.InputHeight, Raw(recFormat));
            var recKit = new float[recRaw.Length];
            PpOcrReader.WriteSlot(crop, recKit, recWidth, rec.InputHeight, recUsed, rec.InputHeight, recFormat);
            yield return ($"{name}/ocr-rec", $"{Legacy($"{name}/ocr-rec", recRaw, recKit, OldOcr(recWidth, rec.InputHeight, recUsed, rec.Mean, rec.Std), deviation)} w={recWidth}");
        }
    }

    [Fact]
    public void Every_preprocessing_path_produces_the_recorded_tensors_bit_for_bit()
    {
        var deviation = new Deviation();
        var actual = Outputs(deviation).ToDictionary(o => o.Case, o => o.Hash);
        if (Environment.GetEnvironmentVariable("IRIS_RECORD_PREPROCESSING") == "1")
        {
            File.WriteAllText(FixturePath, JsonSerializer.Serialize(new SortedDictionary<string, string>(actual), new JsonSerializerOptions { WriteIndented = true }) + "\n");
            return;
        }
        var expected = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(FixturePath))!;
        var differences = expected.Keys.Union(actual.Keys).Order()
            .Where(k => expected.GetValueOrDefault(k) != actual.GetValueOrDefault(k))
            .Select(k => $"{k}: expected {expected.GetValueOrDefault(k) ?? "(none)"}, got {actual.GetValueOrDefault(k) ?? "(none)"}")
            .ToList();
        Assert.True(differences.Count == 0, $"{differences.Count} of {expected.Count} outputs changed:\n" + string.Join("\n", differences));
        Assert.True(deviation.Max <= Tolerance, $"The kit's normalisation is {deviation.Max:R} from the old formula's (tolerance {Tolerance:R}) at {deviation.Where}");
    }
}
