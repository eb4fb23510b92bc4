namespace Iris.Http;

/// <summary>
/// A request whose envelope cannot be used as sent (a body that is not valid JSON, a form without its image field);
/// answered with 400, naming the field when there is one. A bad parameter is an <see cref="Iris.Core.Tasks.InvalidParameterException"/>.
/// </summary>
public sealed class InvalidRequestException(string detail, string? field = null) : Exception(detail)
{
    public string? Field { get; } = field;
}
