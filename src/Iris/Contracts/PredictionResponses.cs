using Iris.Core.Classification;
using Iris.Core.Predictions;

namespace Iris.Contracts;

/// <summary>The answer of the classifier service's <c>POST /api/v1/inference/predict</c> (seed 004), field for field.</summary>
public sealed record InferencePredictResponse(int PredictedClass, string PredictedClassName, float Confidence)
{
    public static InferencePredictResponse From(ClassPrediction top) => new(top.ClassIndex, top.Label, top.Confidence);
}

/// <summary>One row of the <c>predictions</c> table, as <c>GET /v1/predictions</c> lists it.</summary>
public sealed record PredictionResponse(
    Guid Uid, string ImagePath, int PredictedClass, string PredictedClassName, float Confidence, Guid UserUid, DateTimeOffset CreatedAt)
{
    public static PredictionResponse From(Prediction p) =>
        new(p.Uid, p.ImagePath, p.PredictedClass, p.PredictedClassName, p.Confidence, p.UserUid, p.CreatedAt);
}

public sealed record PredictionListResponse(IReadOnlyList<PredictionResponse> Predictions, string? NextCursor)
{
    public static PredictionListResponse From(PredictionPage page) =>
        new(page.Predictions.Select(PredictionResponse.From).ToList(), page.NextCursor?.ToString());
}

/// <summary>
/// FastAPI's 422 for a request that fails validation, which the classifier service's clients receive for a missing
/// file or a malformed query: <c>detail</c> is the list of errors, each with <c>type</c>, <c>loc</c>, <c>msg</c> and
/// <c>input</c>. Sent as problem+json, with the problem's own fields beside it.
/// </summary>
public sealed record FastApiValidationProblem(string Type, string Title, int Status, IReadOnlyList<FastApiValidationError> Detail, string Instance, string RequestId);

public sealed record FastApiValidationError(string Type, IReadOnlyList<string> Loc, string Msg, string? Input);
