using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace Jobs.Functions.Api;

/// <summary><c>GET /api/jobs/{id}/status</c>: the small shape a progress bar polls.</summary>
public sealed class GetJobStatusFunction(ApiGuard guard)
{
    [Function(nameof(GetJobStatus))]
    public Task<IActionResult> GetJobStatus(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "jobs/{id}/status")] HttpRequest request, string id) =>
        guard.RunAsync(request, [], async caller =>
        {
            var job = await guard.GetVisibleJobAsync(id, caller, request.HttpContext.RequestAborted);
            return ApiResult.Ok(JobRepresentation.Status(job)).WithHeader("Cache-Control", "no-store");
        });
}
