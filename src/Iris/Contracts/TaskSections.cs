using Iris.Core.Captioning;
using Iris.Core.Classification;
using Iris.Core.Detection;
using Iris.Core.Faces;
using Iris.Core.Inspection;
using Iris.Core.Moderation;
using Iris.Core.Ocr;
using Iris.Core.Tasks;

namespace Iris.Contracts;

/// <summary>
/// The one mapping from a task's typed result to its section of an analysis document (<c>POST /v1/analyze</c>,
/// <c>iris analyze</c>, a job's result): the document of the task's own route, timed by the task's run.
/// </summary>
public static class TaskSections
{
    public static object ToSection(TaskOutcome outcome) => outcome.Result switch
    {
        DetectionResult detection => DetectionResponse.From(detection, 0, outcome.Ms),
        FaceDetectionResult faces => FacesResponse.From(faces, 0, outcome.Ms),
        ClassificationResult classification => ClassificationResponse.From(classification, 0, outcome.Ms),
        OcrResult ocr => OcrResponse.From(ocr, 0, outcome.Ms),
        CaptionBatch captions => DescribeResponse.From(captions, 0, false, 0, outcome.Ms),
        ImageInfo info => InfoResponse.From(info, 0, outcome.Ms),
        ModerationResult moderation => ModerationResponse.From(moderation, 0, outcome.Ms),
        var other => throw new NotSupportedException($"Task '{outcome.Name}' produced a {other.GetType().Name}, which has no section mapping."),
    };
}
