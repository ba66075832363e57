using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace Jobs.Functions.Api;

/// <summary><c>GET /api/jobs/{id}</c>: the whole job record.</summary>
public sealed class GetJobFunction(ApiGuard guard, PublicUrls urls)
{
    [Function(nameof(GetJob))]
    public Task<IActionResult> GetJob(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "jobs/{id}")] HttpRequest request, string id) =>
        guard.RunAsync(request, [], async caller =>
        {
            var job = await guard.GetVisibleJobAsync(id, caller, request.HttpContext.RequestAborted);
            return ApiResult.Ok(JobRepresentation.Full(job, urls.BaseUrl(request)));
        });
}
