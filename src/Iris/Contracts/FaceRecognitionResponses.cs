using System.Text.Json.Serialization;
using Iris.Core.Faces.Recognition;

namespace Iris.Contracts;

/// <summary>A known person: <c>POST/GET/PATCH /v1/faces/people…</c>.</summary>
public sealed record PersonDto(Guid Id, string Name, int Faces, DateTimeOffset CreatedAt)
{
    public static PersonDto From(KnownPerson p) => new(p.Id, p.Name, p.Faces, p.CreatedAt);
}

public sealed record PeopleResponse(IReadOnlyList<PersonDto> People);

/// <summary>The body of <c>PATCH /v1/faces/people/{id}</c>.</summary>
public sealed record RenamePersonRequest(string? Name);

/// <summary>The JSON document of <c>POST /v1/faces/recognize</c>.</summary>
public sealed record RecognitionResponse(string Model, string Detector, int Width, int Height, float Threshold, IReadOnlyList<RecognizedFaceDto> Faces)
{
    public static RecognitionResponse From(Recognition r) => new(r.Image.Model, r.Image.Detector, r.Image.Width, r.Image.Height, r.Threshold,
        r.Faces.Select(f => new RecognizedFaceDto(
            f.Person is { } p ? new PersonRefDto(p.Id, p.Name) : null, f.Person is null ? "unknown" : f.Person.Name,
            MathF.Round(f.Similarity, 4), MathF.Round(f.Face.Confidence, 4), FaceEmbeddingResponse.Box(f.Face.Box),
            f.Face.Description.Age, f.Face.Description.Gender)).ToList());
}

/// <summary>One face: the person (null for a stranger), the name or <c>unknown</c>, the similarity that decided it, the detector's confidence and box.</summary>
public sealed record RecognizedFaceDto(PersonRefDto? Person, string Name, float Similarity, float Confidence, BoxDto Box, float Age, string Gender);

public sealed record PersonRefDto(Guid Id, string Name);

/// <summary>The JSON document of <c>POST /v1/faces/match</c>.</summary>
public sealed record FaceMatchResponse(float Similarity, bool SamePerson, float Threshold, BoxDto Box1, BoxDto Box2)
{
    public static FaceMatchResponse From(FaceMatch m, float threshold) => new(MathF.Round(m.Similarity, 4), m.Similarity >= threshold, threshold,
        FaceEmbeddingResponse.Box(m.First.Box), FaceEmbeddingResponse.Box(m.Second.Box));
}

/// <summary>DeepStack's answer to register and delete: <c>{"success": true, "message": "face added"}</c>.</summary>
public sealed record DeepStackMessage([property: JsonPropertyName("success")] bool Success, [property: JsonPropertyName("message")] string Message);

/// <summary>DeepStack's <c>/v1/vision/face/list</c>: <c>{"success": true, "faces": ["Idris Elba", …]}</c>.</summary>
public sealed record DeepStackFaceList([property: JsonPropertyName("success")] bool Success, [property: JsonPropertyName("faces")] IReadOnlyList<string> Faces);

/// <summary>DeepStack's <c>/v1/vision/face/match</c>: <c>{"success": true, "similarity": 0.74}</c>.</summary>
public sealed record DeepStackFaceMatch([property: JsonPropertyName("success")] bool Success, [property: JsonPropertyName("similarity")] float Similarity);

/// <summary>
/// DeepStack's <c>/v1/vision/face/recognize</c>: <c>success</c> and <c>predictions</c> with <c>userid</c> (<c>unknown</c>
/// with confidence 0 for a stranger) and the box as whole pixels; <c>count</c>, <c>message</c> and timings as CodeProject.AI adds them.
/// </summary>
public sealed record DeepStackRecognition(
    [property: JsonPropertyName("success")] bool Success,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("count")] int Count,
    [property: JsonPropertyName("predictions")] IReadOnlyList<DeepStackRecognizedFace> Predictions,
    [property: JsonPropertyName("processMs")] long ProcessMs,
    [property: JsonPropertyName("inferenceMs")] long InferenceMs);

public sealed record DeepStackRecognizedFace(
    [property: JsonPropertyName("userid")] string UserId,
    [property: JsonPropertyName("confidence")] float Confidence,
    [property: JsonPropertyName("x_min")] int XMin,
    [property: JsonPropertyName("y_min")] int YMin,
    [property: JsonPropertyName("x_max")] int XMax,
    [property: JsonPropertyName("y_max")] int YMax);
