#:project ../../src/Iris.Core/Iris.Core.csproj
#:property PublishAot=false

// How the encoder's time per image depends on how many images one ONNX Runtime run takes (why ImageCaptioner encodes
// at most 4 at a time). Usage: dotnet run -c Release EncoderRunSize.cs -- ENCODER.onnx [THREADS=1]
using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;

var path = args.Length > 0 ? args[0] : "../../../shared/models/flower-captioner-tiny/onnx/encoder_model.onnx";
using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = args.Length > 1 ? int.Parse(args[1]) : 1 };
using var session = new InferenceSession(path, options);
var input = session.InputNames[0];
var dims = session.InputMetadata[input].Dimensions;
var (height, width) = (dims[2] > 0 ? dims[2] : 224, dims[3] > 0 ? dims[3] : 224);
const int images = 20;
foreach (var perRun in new[] { 1, 2, 4, 5, 10, 20 })
{
    using var pixels = OrtValue.CreateTensorValueFromMemory(new float[perRun * 3 * height * width], [perRun, 3, height, width]);
    using var runOptions = new RunOptions();
    for (var i = 0; i < 3; i++) session.Run(runOptions, [input], [pixels], session.OutputNames.ToArray()).Dispose();
    var best = double.MaxValue;
    for (var round = 0; round < 5; round++)
    {
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < images / perRun; i++) session.Run(runOptions, [input], [pixels], session.OutputNames.ToArray()).Dispose();
        best = Math.Min(best, clock.Elapsed.TotalMilliseconds);
    }
    Console.WriteLine($"{perRun,2} images per run: {best / images:F2} ms per image");
}
