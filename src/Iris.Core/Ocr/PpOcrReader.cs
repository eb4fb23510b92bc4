using System.Buffers;
using System.Diagnostics;
using Iris.Core.Imaging;
using Iris.Core.Imaging.Preprocessing;
using Iris.Core.Inference;
using Iris.Core.Models;
using Microsoft.ML.OnnxRuntime;

namespace Iris.Core.Ocr;

/// <summary>
/// The PP-OCR pipeline: DB text detection → perspective crop of each box → 180° direction classification →
/// CTC recognition in batches of similar aspect ratio → reading order. Configured by the manifest's
/// <see cref="OcrSpec"/>; the three ONNX sessions are created once and shared by all requests.
/// </summary>
public sealed class PpOcrReader : ILoadedModel
{
    private static readonly float[] Half = [0.5f, 0.5f, 0.5f];

    /// <summary>PaddleOCR pads recognition and direction inputs with zeros after normalising.</summary>
    private static readonly float[] ZeroPad = [0f, 0f, 0f];

    private readonly OcrSpec _spec;
    private readonly TensorFormat _detectionFormat;
    private readonly TensorFormat _classifierFormat;
    private readonly TensorFormat _recognitionFormat;
    private readonly Stage _detector;
    private readonly Stage? _classifier;
    private readonly SessionPool _recognizers;
    private readonly CtcDecoder _decoder;

    /// <param name="recognizers">One or more sessions of the recognition model; lines are read in parallel, one per session.</param>
    /// <param name="detectorLoneRun">The text detector's lone-run session (<see cref="OnnxSessionFactory.CreateLoneRun"/>), which the reader then owns; null: none.</param>
    public PpOcrReader(ModelManifest manifest, OcrSpec spec, InferenceSession detector, InferenceSession? classifier, IReadOnlyList<InferenceSession> recognizers,
        IReadOnlyList<string> dictionary, RunLimits runLimits = default, InferenceSession? detectorLoneRun = null)
    {
        Manifest = manifest;
        _spec = spec;
        var detectorGate = new RunGate(runLimits, manifest.Name, "ocr-detect");
        detectorGate.UseLoneRunSession(detector, detectorLoneRun);
        _detector = new Stage(detector, detectorGate);
        _classifier = classifier is null ? null : new Stage(classifier, new RunGate(runLimits, manifest.Name, "ocr-direction"));
        if (recognizers.Count == 0) throw new ArgumentException("At least one recognition session is needed.", nameof(recognizers));
        _recognizers = new SessionPool(recognizers, manifest.Name);
        _decoder = new CtcDecoder(dictionary, spec.Recognition.SpaceCharacter);
        // Mean and std are given in the tensor's channel order (PaddleOCR feeds OpenCV's BGR images); pixels are x/255.
        _detectionFormat = Format(manifest.Name, spec.Detection.ChannelOrder, spec.Detection.Mean, spec.Detection.Std);
        _classifierFormat = Format(manifest.Name, "bgr", Half, Half);
        _recognitionFormat = Format(manifest.Name, spec.Recognition.ChannelOrder, spec.Recognition.Mean, spec.Recognition.Std);
        var classes = recognizers[0].OutputMetadata[recognizers[0].OutputNames[0]].Dimensions[^1];
        if (classes > 0 && classes != _decoder.ClassCount)
            throw new InvalidModelManifestException(manifest.Name,
                $"the recogniser outputs {classes} classes but '{spec.Dictionary}' gives {_decoder.ClassCount} (blank + {dictionary.Count} characters{(spec.Recognition.SpaceCharacter ? " + space" : "")})");
    }

    public ModelManifest Manifest { get; }

    private static TensorFormat Format(string model, string channelOrder, float[] mean, float[] std)
    {
        var bgr = channelOrder == "bgr";
        try
        {
            return new TensorFormat(TensorLayout.Nchw, bgr,
                new PixelNormalization(1.0 / 255, PixelNormalization.ToRgbOrder(mean, bgr), PixelNormalization.ToRgbOrder(std, bgr)));
        }
        catch (ArgumentException e)
        {
            throw new InvalidModelManifestException(model, $"its ocr mean/std are invalid: {e.Message.TrimEnd('.')}");
        }
    }

    /// <summary>
    /// Resizes <paramref name="image"/> (OpenCV bilinear, as PaddleOCR's cv2.resize) into the top-left of one image slot
    /// of a planar tensor, and zeros the rest of the slot.
    /// </summary>
    internal static void WriteSlot(DecodedImage image, Span<float> slot, int tensorWidth, int tensorHeight, int resizedWidth, int resizedHeight,
        TensorFormat format, int padRows = 0)
    {
        resizedWidth = Math.Clamp(resizedWidth, 1, tensorWidth);
        resizedHeight = Math.Clamp(resizedHeight, 1, tensorHeight);
        TensorWriter.FillOutside(slot, format, tensorWidth, tensorHeight, resizedWidth, resizedHeight, ZeroPad);
        OpenCvBilinear.Write(image, resizedWidth, resizedHeight, format, slot, tensorWidth, tensorHeight, padRows);
    }

    /// <summary>PaddleOCR's resize for recognition and direction: height fixed, width by aspect ratio, capped at the slot width.</summary>
    public static int ResizedWidth(DecodedImage image, int height, int maxWidth) =>
        (int)Math.Clamp(Math.Ceiling(height * (double)image.Width / image.Height), 1, maxWidth);

    public async Task<OcrResult> ReadAsync(DecodedImage image, OcrParameters? parameters = null, CancellationToken cancellationToken = default)
    {
        var minConfidence = parameters?.MinConfidence ?? _spec.DefaultMinConfidence;
        var clock = Stopwatch.StartNew();
        var detected = await DetectAsync(image, cancellationToken);
        var detectMs = clock.Elapsed.TotalMilliseconds;

        clock.Restart();
        // A box clipped at the image border can collapse until no projective map fits it; it holds no text.
        var boxes = new List<TextBox>(detected.Count);
        var cropList = new List<DecodedImage>(detected.Count);
        foreach (var box in detected)
            if (PerspectiveCrop.TryCrop(image, box.Corners, _spec.Recognition.VerticalRatio) is { } crop)
            {
                boxes.Add(box);
                cropList.Add(crop);
            }
        var crops = cropList.ToArray();
        var cropMs = clock.Elapsed.TotalMilliseconds;

        clock.Restart();
        var turned = new bool[crops.Length];
        if (_classifier is not null && crops.Length > 0)
            await ClassifyAsync(crops, turned, cancellationToken);
        var classifyMs = clock.Elapsed.TotalMilliseconds;

        clock.Restart();
        var read = crops.Length == 0 ? [] : await RecognizeAsync(crops, cancellationToken);
        var lines = new List<OcrLine>();
        var upsideDown = 0;
        for (var i = 0; i < boxes.Count; i++)
            if (read[i].Text.Length > 0 && read[i].Confidence >= minConfidence)
            {
                lines.Add(new OcrLine(read[i].Text, read[i].Confidence, boxes[i].Corners));
                if (turned[i]) upsideDown++;
            }
        // When most lines were read turned 180°, the page itself is upside down: its first line is at the bottom
        // of the image, so the reading order is that of the page turned upright.
        Func<OcrLine, PointF[]> frame = upsideDown * 2 > lines.Count
            ? l => ReadingOrder.Turned180(l.Polygon, image.Width, image.Height)
            : l => l.Polygon;
        lines = ReadingOrder.Sort(lines, frame);
        var recognizeMs = clock.Elapsed.TotalMilliseconds;

        return new OcrResult(Manifest.Name, image.Width, image.Height, ReadingOrder.JoinText(lines, frame), lines,
            new OcrTimings(detectMs, cropMs, classifyMs, recognizeMs));
    }

    /// <summary>The size the detector sees: longer side at most MaxSide, each side rounded to the nearest multiple (as PaddleOCR's DetResizeForTest).</summary>
    public static (int Width, int Height) DetectionSize(int width, int height, OcrDetectionSpec spec)
    {
        var ratio = Math.Max(width, height) > spec.MaxSide ? (double)spec.MaxSide / Math.Max(width, height) : 1.0;
        int Round(double side) => Math.Max((int)Math.Round((int)(side * ratio) / (double)spec.Multiple, MidpointRounding.ToEven) * spec.Multiple, spec.Multiple);
        return (Round(width), Round(height));
    }

    private async Task<List<TextBox>> DetectAsync(DecodedImage image, CancellationToken cancellationToken)
    {
        var spec = _spec.Detection;
        var pad = PaddingRows(image.Width, image.Height, spec);
        var boxes = await DetectPaddedAsync(image, pad, cancellationToken);
        if (pad == 0) return boxes;
        return boxes.Select(b => b with
        {
            Corners = b.Corners.Select(p => new PointF(p.X, Math.Clamp(p.Y - pad, 0, image.Height - 1))).ToArray(),
        }).Where(b => b.Corners[3].Y - b.Corners[0].Y > 3).ToList();
    }

    /// <summary>RapidOCR's letterbox for line-like images: pad to a height of 2 × max(width / ratio, min height).</summary>
    public static int PaddingRows(int width, int height, OcrDetectionSpec spec)
    {
        var wide = spec.PadAspectRatio > 0 && width > spec.PadAspectRatio * height;
        if (!wide && height >= spec.PadMinHeight) return 0;
        var target = 2 * Math.Max(spec.PadAspectRatio > 0 ? (int)(width / spec.PadAspectRatio) : 0, spec.PadMinHeight);
        return Math.Max(0, (target - height) / 2);
    }

    /// <summary>
    /// Detection on the image with <paramref name="padRows"/> rows repeating its edge rows above and below (background,
    /// in a cropped line); the padding is only read through the sampler, never built, so a 1,000,000×1 line costs
    /// what its detection input costs.
    /// </summary>
    private async Task<List<TextBox>> DetectPaddedAsync(DecodedImage image, int padRows, CancellationToken cancellationToken)
    {
        var spec = _spec.Detection;
        var paddedHeight = image.Height + 2 * padRows;
        var (width, height) = DetectionSize(image.Width, paddedHeight, spec);
        var length = 3 * width * height;
        var input = ArrayPool<float>.Shared.Rent(length);
        try
        {
            WriteSlot(image, input.AsSpan(0, length), width, height, width, height, _detectionFormat, padRows);
            return await _detector.RunAsync(input.AsMemory(0, length), [1, 3, height, width],
                output => DbPostprocessor.Extract(output.GetTensorDataAsSpan<float>(), width, height, image.Width, paddedHeight, spec), cancellationToken);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(input);
        }
    }

    /// <summary>Turns the crops the classifier reads as upside down, and marks them in <paramref name="turned"/>.</summary>
    private async Task ClassifyAsync(DecodedImage[] crops, bool[] turned, CancellationToken cancellationToken)
    {
        var spec = _spec.Classifier;
        int width = spec.InputWidth, height = spec.InputHeight, slot = 3 * width * height;
        foreach (var batch in BatchesByAspectRatio(crops, spec.BatchSize))
        {
            var length = batch.Length * slot;
            var input = ArrayPool<float>.Shared.Rent(length);
            try
            {
                for (var b = 0; b < batch.Length; b++)
                {
                    // PaddleOCR squashes a long line into the 4:1 input, and on a 30:1 line the classifier then often
                    // answers "180°" with > 0.9 and the line is read upside down. Its first 4:1 window, at full
                    // height, is what the classifier was trained on, and decides reliably either way.
                    var crop = LeadingWindow(crops[batch[b]], (double)width / height);
                    WriteSlot(crop, input.AsSpan(b * slot, slot), width, height, ResizedWidth(crop, height, width), height, _classifierFormat);
                }
                var turn = await _classifier!.RunAsync(input.AsMemory(0, length), [batch.Length, 3, height, width], output =>
                {
                    var scores = output.GetTensorDataAsSpan<float>();
                    var classes = scores.Length / batch.Length;
                    var result = new bool[batch.Length];
                    // Class 1 is "180°"; only a confident verdict turns the crop, as PaddleOCR's cls_thresh.
                    for (var b = 0; b < batch.Length; b++)
                        result[b] = scores[b * classes + 1] > scores[b * classes] && scores[b * classes + 1] > spec.Threshold;
                    return result;
                }, cancellationToken);
                for (var b = 0; b < batch.Length; b++)
                    if (turn[b])
                    {
                        crops[batch[b]] = Rotation.HalfTurn(crops[batch[b]]);
                        turned[batch[b]] = true;
                    }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(input);
            }
        }
    }

    private async Task<(string Text, float Confidence)[]> RecognizeAsync(DecodedImage[] crops, CancellationToken cancellationToken)
    {
        var spec = _spec.Recognition;
        var height = spec.InputHeight;
        var results = new (string, float)[crops.Length];
        // A line is a small input (48 px high) that one thread runs nearly as fast as several, so lines run side by
        // side, one per pooled session, rather than one after another on all threads.
        var options = new ParallelOptions { MaxDegreeOfParallelism = _recognizers.Count, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(BatchesByAspectRatio(crops, spec.BatchSize), options, async (batch, token) =>
        {
            // The batch is as wide as its widest crop needs, and never narrower than MinWidth.
            var ratio = Math.Max((double)spec.MinWidth / height, batch.Max(i => (double)crops[i].Width / crops[i].Height));
            var width = (int)Math.Clamp(Math.Ceiling(height * ratio), 1, Math.Max(spec.MinWidth, spec.MaxWidth));
            int slot = 3 * width * height, length = batch.Length * slot;
            var input = ArrayPool<float>.Shared.Rent(length);
            try
            {
                for (var b = 0; b < batch.Length; b++)
                {
                    var crop = crops[batch[b]];
                    WriteSlot(crop, input.AsSpan(b * slot, slot), width, height, ResizedWidth(crop, height, width), height, _recognitionFormat);
                }
                var decoded = await _recognizers.RunAsync(input.AsMemory(0, length), [batch.Length, 3, height, width], output =>
                {
                    var shape = output.GetTensorTypeAndShape().Shape;
                    int steps = (int)shape[1], classes = (int)shape[2];
                    var data = output.GetTensorDataAsSpan<float>();
                    var lines = new (string, float)[batch.Length];
                    for (var b = 0; b < batch.Length; b++)
                        lines[b] = _decoder.Decode(data.Slice(b * steps * classes, steps * classes), steps, classes);
                    return lines;
                }, token);
                for (var b = 0; b < batch.Length; b++) results[batch[b]] = decoded[b];
            }
            finally
            {
                ArrayPool<float>.Shared.Return(input);
            }
        });
        return results;
    }

    /// <summary>The left part of a crop, at most <paramref name="aspectRatio"/> times as wide as it is tall.</summary>
    public static DecodedImage LeadingWindow(DecodedImage crop, double aspectRatio)
    {
        var width = Math.Ceiling(crop.Height * aspectRatio);
        return crop.Width <= width ? crop : CenterCrop.Region(crop, 0, 0, (int)width, crop.Height);
    }

    /// <summary>Crop indices sorted by width/height and cut into batches, so each batch pads as little as possible.</summary>
    private static IEnumerable<int[]> BatchesByAspectRatio(DecodedImage[] crops, int batchSize) =>
        Enumerable.Range(0, crops.Length).OrderBy(i => (double)crops[i].Width / crops[i].Height).Chunk(Math.Max(1, batchSize));

    /// <summary>Runs each network once, so the first request does not pay for ONNX Runtime's first-run set-up.</summary>
    public async Task WarmUpAsync(CancellationToken cancellationToken)
    {
        var white = new byte[64 * 64 * 3];
        Array.Fill(white, (byte)255);
        await DetectAsync(new DecodedImage(64, 64, white, ImageFormat.Png, 1, 0), cancellationToken);
        var line = new DecodedImage(96, 32, new byte[96 * 32 * 3], ImageFormat.Png, 1, 0);
        if (_classifier is not null) await ClassifyAsync([line], new bool[1], cancellationToken);
        await RecognizeAsync(Enumerable.Repeat(line, _recognizers.Count).ToArray(), cancellationToken);
    }

    public void Dispose()
    {
        _detector.Dispose();
        _classifier?.Dispose();
        _recognizers.Dispose();
    }

    /// <summary>Sessions of one model, each serving one run at a time; a run takes whichever is free.</summary>
    private sealed class SessionPool : IDisposable
    {
        private readonly System.Collections.Concurrent.ConcurrentBag<Stage> _free;
        private readonly SemaphoreSlim _available;
        private readonly Stage[] _all;

        public SessionPool(IReadOnlyList<InferenceSession> sessions, string model)
        {
            _all = sessions.Select(s => new Stage(s, new RunGate(0, model, "ocr-recognize"))).ToArray();
            _free = new System.Collections.Concurrent.ConcurrentBag<Stage>(_all);
            _available = new SemaphoreSlim(_all.Length, _all.Length);
        }

        public int Count => _all.Length;

        public async Task<T> RunAsync<T>(Memory<float> input, long[] shape, Func<OrtValue, T> read, CancellationToken cancellationToken)
        {
            await _available.WaitAsync(cancellationToken);
            _free.TryTake(out var stage);
            try
            {
                return await stage!.RunAsync(input, shape, read, cancellationToken);
            }
            finally
            {
                _free.Add(stage!);
                _available.Release();
            }
        }

        public void Dispose()
        {
            foreach (var stage in _all) stage.Dispose();
            _available.Dispose();
        }
    }

    /// <summary>One ONNX session with its concurrency gate; the output is read inside the gate, while it is alive.</summary>
    private sealed class Stage(InferenceSession session, RunGate gate) : IDisposable
    {
        private readonly string[] _inputNames = [session.InputNames[0]];
        private readonly string[] _outputNames = [session.OutputNames[0]];

        public async Task<T> RunAsync<T>(Memory<float> input, long[] shape, Func<OrtValue, T> read, CancellationToken cancellationToken) =>
            (await gate.RunAsync(session, _inputNames, input, shape, _outputNames, outputs => read(outputs[0]), cancellationToken)).Result;

        public void Dispose()
        {
            session.Dispose();
            gate.Dispose();
        }
    }
}
