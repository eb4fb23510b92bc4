using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using Iris.Core.Classification;
using Iris.Core.Detection;
using Iris.Core.HuggingFace;
using Iris.Core.Imaging;
using Iris.Core.Inference;
using Iris.Core.Ocr;
using Iris.Tests.Support;

namespace Iris.Tests.Imaging.Preprocessing;

/// <summary>
/// Holds every model's pre-processing to the outputs it produced before the pre-processing kit was merged: the
/// SHA-256 of each float tensor (or byte raster), bit for bit, over shared photos and odd shapes. The expected hashes
/// were recorded on the old code; set IRIS_RECORD_PREPROCESSING=1 to record them again (only on purpose).
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

    private static IEnumerable<(string Case, string Hash)> Outputs()
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

        foreach (var (name, image) in Images())
        {
            yield return ($"{name}/decoded", Hash(image.Rgb.AsSpan(0, image.Width * image.Height * 3)));

            // YOLOX letterbox: the manifest default (BGR, pad 114, raw 0..255) and an RGB, normalised variant.
            var yolox = new float[3 * 416 * 416];
            var ratio = Letterbox.Fill(image, yolox, 416, 416, 114f, bgr: true);
            yield return ($"{name}/yolox-416-bgr", $"{Hash(yolox)} r={ratio:R}");
            var yoloxRgb = new float[3 * 320 * 256];
            Letterbox.Fill(image, yoloxRgb, 320, 256, 0f, bgr: false);
            Letterbox.Normalize(yoloxRgb, 320 * 256, 1f / 255, [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);
            yield return ($"{name}/yolox-320x256-rgb-normalised", Hash(yoloxRgb));

            // UltraFace: stretch to 320×240 with OpenCV bilinear, (x − 127) / 128, both channel orders.
            foreach (var bgr in new[] { false, true })
            {
                var pixels = new byte[3 * 320 * 240];
                BilinearResampler.Resize(image.Rgb, image.Width, image.Height, ResizePlan.Stretch(320, 240), antialias: false, pixels);
                var faces = new float[3 * 320 * 240];
                ImageTensor.Write(pixels, 320, 240, TensorLayout.Nchw, bgr, new PixelNormalization(1f, [127f, 127f, 127f], [128f, 128f, 128f]), faces);
                yield return ($"{name}/ultraface-320x240-{(bgr ? "bgr" : "rgb")}", Hash(faces));
            }

            // Classifier presets, as ImageClassifier.Preprocess does it.
            foreach (var (preset, settings) in classifiers)
            {
                var plan = settings.Resize == ClassifierResize.CenterCrop
                    ? ResizePlan.ShorterSideThenCenterCrop(image.Width, image.Height, settings.ResizeSize, settings.InputWidth, settings.InputHeight)
                    : ResizePlan.Stretch(settings.InputWidth, settings.InputHeight);
                var pixels = new byte[plan.Width * plan.Height * 3];
                BilinearResampler.Resize(image.Rgb, image.Width, image.Height, plan, settings.Antialias, pixels);
                var tensor = new float[3 * settings.InputWidth * settings.InputHeight];
                ImageTensor.Write(pixels, plan.Width, plan.Height, settings.Layout, settings.Bgr, settings.Normalization, tensor);
                yield return ($"{name}/classifier-{preset}", Hash(tensor));
            }

            // The statistics thumbnail (info): longer side 256, antialiased bilinear.
            var thumbPlan = ResizePlan.FitWithin(image.Width, image.Height, 256);
            yield return ($"{name}/thumbnail-256", Hash(BilinearResampler.Resize(image, thumbPlan, antialias: true)));

            // Hugging Face processors: CLIP (shortest edge 128, bicubic, centre crop) and the captioner (128×128 bilinear).
            foreach (var (model, processor) in new[] { ("clip", clip), ("captioner", captioner) })
            {
                var (w, h) = processor.OutputSize(image);
                var tensor = new float[3 * w * h];
                processor.Fill(image, tensor);
                yield return ($"{name}/hf-{model}", Hash(tensor));
            }

            // PP-OCR detection input: RapidOCR's vertical padding of line-like images, then DetResizeForTest.
            var source = RgbImage.From(image);
            var pad = PpOcrReader.PaddingRows(source.Width, source.Height, ocr.Detection);
            var detSource = pad == 0 ? source : PpOcrReader.PadVertically(source, pad);
            var (dw, dh) = PpOcrReader.DetectionSize(detSource.Width, detSource.Height, ocr.Detection);
            var det = new float[3 * dw * dh];
            OcrTensor.Write(detSource, det, dw, dh, dw, dh, ocr.Detection.ChannelOrder == "bgr", ocr.Detection.Mean, ocr.Detection.Std);
            yield return ($"{name}/ocr-det", $"{Hash(det)} {dw}x{dh} pad={pad}");

            // A perspective crop of a tilted quadrilateral, then the direction classifier's and recogniser's inputs.
            float W = image.Width - 1, H = image.Height - 1;
            PointF[] quad = [new(W * 0.1f, H * 0.2f), new(W * 0.8f, H * 0.1f), new(W * 0.9f, H * 0.6f), new(W * 0.15f, H * 0.7f)];
            var crop = PerspectiveCrop.TryCrop(source, quad, ocr.Recognition.VerticalRatio);
            if (crop is null)
            {
                yield return ($"{name}/ocr-crop", "degenerate");
                continue;
            }
            yield return ($"{name}/ocr-crop", $"{Hash(crop.Pixels)} {crop.Width}x{crop.Height}");
            yield return ($"{name}/ocr-crop-rot180", Hash(crop.Rotate180().Pixels));
            yield return ($"{name}/ocr-crop-rot90", Hash(crop.RotateCounterClockwise().Pixels));

            var window = PpOcrReader.LeadingWindow(crop, 192.0 / 48);
            var cls = new float[3 * 192 * 48];
            OcrTensor.Write(window, cls, 192, 48, OcrTensor.ResizedWidth(window, 48, 192), 48, bgr: true, [0.5f, 0.5f, 0.5f], [0.5f, 0.5f, 0.5f]);
            yield return ($"{name}/ocr-cls", Hash(cls));

            var rec = ocr.Recognition;
            var recWidth = Math.Max(1, (int)Math.Ceiling(rec.InputHeight * Math.Max((double)rec.MinWidth / rec.InputHeight, (double)crop.Width / crop.Height)));
            var recTensor = new float[3 * recWidth * rec.InputHeight];
            OcrTensor.Write(crop, recTensor, recWidth, rec.InputHeight, OcrTensor.ResizedWidth(crop, rec.InputHeight, recWidth), rec.InputHeight,
                rec.ChannelOrder == "bgr", rec.Mean, rec.Std);
            yield return ($"{name}/ocr-rec", $"{Hash(recTensor)} w={recWidth}");
        }
    }

    [Fact]
    public void Every_preprocessing_path_produces_the_recorded_tensors_bit_for_bit()
    {
        var actual = Outputs().ToDictionary(o => o.Case, o => o.Hash);
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
    }
}
