using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Iris.Http;

/// <summary>The OpenAPI description of an image upload, in each envelope <see cref="ImageUpload"/> accepts.</summary>
public static class ImageRequestBody
{
    public static Task Describe(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var binary = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" };
        operation.RequestBody = new OpenApiRequestBody
        {
            Required = true,
            Description = "The image. Its format is detected from its bytes, whatever the declared type.",
            Content = new Dictionary<string, OpenApiMediaType>
            {
                ["multipart/form-data"] = new()
                {
                    Schema = new OpenApiSchema
                    {
                        Type = JsonSchemaType.Object,
                        Properties = new Dictionary<string, IOpenApiSchema>
                        {
                            ["image"] = binary,
                            ["file"] = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary", Description = "Alternative name of the image field." },
                        },
                    },
                },
                ["image/*"] = new() { Schema = binary },
                ["application/octet-stream"] = new() { Schema = binary },
                ["application/json"] = new()
                {
                    Schema = new OpenApiSchema
                    {
                        Type = JsonSchemaType.Object,
                        Required = new HashSet<string> { "image" },
                        Properties = new Dictionary<string, IOpenApiSchema>
                        {
                            ["image"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "Base64 image data, or a data: URI." },
                        },
                    },
                },
            },
        };
        return Task.CompletedTask;
    }
}
