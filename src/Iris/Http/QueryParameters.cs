using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Iris.Http;

/// <summary>
/// Documents query parameters that handlers parse themselves (to answer bad values with a problem naming the
/// parameter, instead of the framework's bare 400).
/// </summary>
public static class QueryParameters
{
    public sealed record Parameter(string Name, JsonSchemaType Type, string Description);

    /// <summary>The query string's parameters, for a request whose body is not an image upload.</summary>
    public static Iris.Core.Tasks.ParameterReader Reader(HttpRequest request) => new(name => request.Query[name].ToString());

    public static Func<OpenApiOperation, OpenApiOperationTransformerContext, CancellationToken, Task> Describe(params Parameter[] parameters) =>
        (operation, _, _) =>
        {
            operation.Parameters ??= new List<IOpenApiParameter>();
            foreach (var p in parameters)
                operation.Parameters.Add(new OpenApiParameter
                {
                    Name = p.Name,
                    In = ParameterLocation.Query,
                    Required = false,
                    Description = p.Description,
                    Schema = new OpenApiSchema { Type = p.Type },
                });
            return Task.CompletedTask;
        };
}
