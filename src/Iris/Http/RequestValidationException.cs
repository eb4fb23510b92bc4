namespace Iris.Http;

/// <summary>
/// A field an older service declared in its request schema (FastAPI/pydantic) that is missing or out of its range: those
/// services answered 422, and their clients handle it as such. Iris's own parameters stay 400 (<see cref="InvalidRequestException"/>).
/// </summary>
public sealed class RequestValidationException(string detail, string field) : Exception(detail)
{
    public string Field { get; } = field;
}
