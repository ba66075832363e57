using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace Jobs.Functions.Api;

/// <summary><c>GET /api/openapi.json</c>: the OpenAPI document of every route (<see cref="OpenApiDocumentBuilder"/>), its server this request's public URL.</summary>
public sealed class GetOpenApiDocumentFunction(PublicUrls urls)
{
    [Function(nameof(GetOpenApiDocument))]
    public IActionResult GetOpenApiDocument(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "openapi.json")] HttpRequest request) =>
        ApiResult.Ok(OpenApiDocumentBuilder.Build(urls.BaseUrl(request) + "/api"));
}
