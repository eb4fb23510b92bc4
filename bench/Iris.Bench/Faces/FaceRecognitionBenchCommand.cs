using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using Iris.Bench.Throughput;
using Iris.Configuration;
using Iris.Core.Faces;
using Iris.Core.Faces.Recognition;
using Iris.Core.Imaging;
using Iris.Core.Imaging.Preprocessing;
using Iris.Core.Inference;
using Iris.Core.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.ML.OnnxRuntime;

namespace Iris.Bench.Faces;

/// <summary>
/// <c>Iris.Bench faces [seconds]</c>: face recognition on the group photo (testdata/real/faces-16.jpg, nine faces, the
/// nine people registered from their crops) in faces per second, against the reference of the same run: the raw
/// <c>session.Run</c> of UltraFace (one image) plus FaceRes (the nine crops as one batch) on tensors made once. Then
/// <c>KnownPeople.RecognizeAsync</c> in process (decode, detect, crop, embed, compare, read the registry) and
/// <c>POST /v1/faces/recognize</c> over loopback HTTP, one caller each. The raw reference runs first and last; the
/// faster window is the reference.
/// </summary>
public static class FaceRecognitionBenchCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = args.Length > 0 && double.TryParse(args[0], System.Globalization.CultureInfo.InvariantCulture, out var s) && s > 0 ? s : 10;
        var duration = TimeSpan.FromSeconds(seconds);
        var photo = await File.ReadAllBytesAsync(SharedFolder.TestImage("faces-16.jpg"));
        var crops = "abcdefghi".Select(l => File.ReadAllBytes(Path.Combine(SharedFolder.Locate(), "testdata", "real-models", $"face-f16{l}.png"))).ToList();
        var work = Directory.CreateTempSubdirectory("iris-bench-faces-");
        try
        {
            var overrides = ThroughputCommand.Overrides(SharedFolder.ModelsMirror, Path.Combine(work.FullName, "models"));
            overrides["Jobs:Database"] = Path.Combine(work.FullName, "jobs.db");
            overrides["Jobs:InputDirectory"] = Path.Combine(work.FullName, "job-inputs");
            overrides["Library:IndexDatabase"] = Path.Combine(work.FullName, "vectors.db");
            overrides["Storage:Directory"] = Path.Combine(work.FullName, "images");
            overrides["Models:Enabled"] = "ultraface-rfb-320";
            var configuration = IrisConfiguration.Build(null, overrides);
            var options = IrisConfiguration.Load(configuration);

            var services = new ServiceCollection().AddLogging();
            services.AddIrisCore(options);
            services.AddSingleton(new Iris.Core.Jobs.Sqlite.SqliteJobDatabase(Path.Combine(work.FullName, "inprocess.db")));
            services.AddIrisKnownPeople(options);
            await using var provider = services.BuildServiceProvider();
            var people = provider.GetRequiredService<KnownPeople>();
            foreach (var (crop, i) in crops.Select((c, i) => (c, i)))
                await people.RegisterAsync(null, $"person {(char)('a' + i)}", [new FaceSample("image", crop)], FaceChoice.Only, addToExisting: false);

            var raw = await RawReferenceAsync(provider, options, photo);
            var results = new List<(string Name, double FacesPerSecond, int Faces, double MeanMs)>();
            results.Add(await MeasureAsync("raw session.Run: UltraFace + FaceRes (batch of 9)", 9, duration, raw));
            var recognised = (await people.RecognizeAsync(null, photo)).Faces.Count(f => f.Person is not null);
            if (recognised != 9) throw new InvalidOperationException($"recognised {recognised} of the 9 registered people");
            results.Add(await MeasureAsync("KnownPeople.RecognizeAsync (in process)", 9, duration, () => people.RecognizeAsync(null, photo)));

            await using (var server = await InProcessIrisServer.StartAsync(options, configuration, CancellationToken.None))
            using (var http = new HttpClient { BaseAddress = server.BaseAddress })
            {
                foreach (var (crop, i) in crops.Select((c, i) => (c, i)))
                {
                    using var form = new MultipartFormDataContent { { new StringContent($"person {(char)('a' + i)}"), "name" }, { new ByteArrayContent(crop), "image", "face.png" } };
                    (await http.PostAsync("/v1/faces/people", form)).EnsureSuccessStatusCode();
                }
                results.Add(await MeasureAsync("HTTP POST /v1/faces/recognize", 9, duration, async () =>
                {
                    using var content = new ByteArrayContent(photo);
                    content.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
                    using var response = await http.PostAsync("/v1/faces/recognize", content);
                    response.EnsureSuccessStatusCode();
                    await response.Content.ReadAsByteArrayAsync();
                }));
            }
            results.Add(await MeasureAsync("raw session.Run, again", 9, duration, raw));

            var reference = Math.Max(results[0].FacesPerSecond, results[^1].FacesPerSecond);
            var report = new StringBuilder()
                .AppendLine($"Face recognition on faces-16.jpg (1024×717, 9 faces, 9 people registered), {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC, {seconds:F0} s per row, one caller")
                .AppendLine()
                .AppendLine("| Scenario | Photos | Faces/s | Mean ms per photo | × raw |")
                .AppendLine("|---|---:|---:|---:|---:|");
            foreach (var r in results)
                report.AppendLine($"| {r.Name} | {r.Faces / 9} | {r.FacesPerSecond:F1} | {r.MeanMs:F1} | {r.FacesPerSecond / reference:F2} |");
            Console.WriteLine(report);
            return 0;
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    /// <summary>The two sessions, made by Iris's own factory, and their input tensors, made once from the real photo.</summary>
    private static async Task<Func<Task>> RawReferenceAsync(IServiceProvider provider, IrisOptions options, byte[] photo)
    {
        var runtime = provider.GetRequiredService<ModelRuntime>();
        var store = provider.GetRequiredService<ModelStore>();
        var catalog = provider.GetRequiredService<ModelCatalog>();
        var sessions = provider.GetRequiredService<OnnxSessionFactory>();
        await runtime.GetFaceDetectorAsync(options.Faces.Model);
        await runtime.GetFaceEmbedderAsync(options.Faces.EmbedModel);
        var detectorManifest = catalog.Get(options.Faces.Model);
        var detectorSpec = detectorManifest.Section<FaceDetectorSpec>("face_detector");
        var embedderManifest = catalog.Get(options.Faces.EmbedModel);
        var embedderSpec = embedderManifest.Section<FaceEmbedderSpec>("face_embedder");
        var detector = sessions.Create(store.FilePath(detectorManifest, detectorSpec.Model));
        var embedder = sessions.Create(store.FilePath(embedderManifest, embedderSpec.Model));

        var image = provider.GetRequiredService<ImageDecoder>().Decode(photo);
        int w = detectorSpec.InputWidth, h = detectorSpec.InputHeight;
        var pixels = new byte[w * h * 3];
        PillowResampler.Resize(image.Rgb, image.Width, image.Height, ResizePlan.Stretch(w, h), ResampleFilter.Bilinear, antialias: false, pixels);
        var detectorInput = new float[3 * w * h];
        TensorWriter.Write(pixels, w, h, new TensorFormat(TensorLayout.Nchw, false, new PixelNormalization(1, detectorSpec.Mean, detectorSpec.Std)), detectorInput);

        var faces = (await provider.GetRequiredService<FaceEmbedder>().EmbedAsync(photo)).Faces;
        var size = embedderSpec.InputSize;
        var embedderInput = new float[faces.Count * size * size * 3];
        for (var i = 0; i < faces.Count; i++)
        {
            var c = faces[i].Crop;
            new FaceCrop((int)c.XMin, (int)c.YMin, (int)(c.XMax - c.XMin)).WriteTensor(image.Rgb, image.Width, size, embedderInput.AsSpan(i * size * size * 3, size * size * 3));
        }
        string detectorInputName = detectorSpec.InputName ?? detector.InputNames[0], embedderInputName = embedderSpec.InputName ?? embedder.InputNames[0];
        string[] embedderOutputs = [embedderSpec.DescriptorOutput, embedderSpec.GenderOutput!, embedderSpec.AgeOutput!];
        return () =>
        {
            using (var value = OrtValue.CreateTensorValueFromMemory(detectorInput, [1, 3, h, w]))
            using (detector.Run(new RunOptions(), [detectorInputName], [value], [detectorSpec.ScoresOutput, detectorSpec.BoxesOutput])) { }
            using (var value = OrtValue.CreateTensorValueFromMemory(embedderInput, [faces.Count, size, size, 3]))
            using (embedder.Run(new RunOptions(), [embedderInputName], [value], embedderOutputs)) { }
            return Task.CompletedTask;
        };
    }

    private static async Task<(string, double, int, double)> MeasureAsync(string name, int facesPerPhoto, TimeSpan duration, Func<Task> once)
    {
        for (var i = 0; i < 3; i++) await once();
        var clock = Stopwatch.StartNew();
        var photos = 0;
        while (clock.Elapsed < duration)
        {
            await once();
            photos++;
        }
        var elapsed = clock.Elapsed.TotalSeconds;
        Console.Error.WriteLine($"{name}: {photos} photos in {elapsed:F1} s");
        return (name, photos * facesPerPhoto / elapsed, photos * facesPerPhoto, elapsed * 1000 / photos);
    }
}
