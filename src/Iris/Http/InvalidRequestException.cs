namespace Iris.Http;

/// <summary>A request parameter or body that cannot be used as sent; answered with 400 and the parameter's name.</summary>
public sealed class InvalidRequestException(string detail, string? parameter = null) : Exception(detail)
{
    public string? Parameter { get; } = parameter;
}
