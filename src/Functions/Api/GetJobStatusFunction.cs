using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace Jobs.Functions.Api;

/// <summary><c>GET /api/jobs/{id}/status</c>: the small shape a progress bar polls; a queued job's with its place in line (one range read more).</summary>
public sealed class GetJobStatusFunction(ApiGuard guard, Concurrency.JobSlots slots)
{
    [Function(nameof(GetJobStatus))]
    public Task<IActionResult> GetJobStatus(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "jobs/{id}/status")] HttpRequest request, string id) =>
        guard.RunAsync(request, [], async caller =>
        {
            var job = await guard.GetVisibleJobAsync(id, caller, request.HttpContext.RequestAborted);
            var position = job.Status == Model.JobStatus.Queued ? await slots.PositionAsync(job, request.HttpContext.RequestAborted) : null;
            return ApiResult.Ok(JobRepresentation.Status(job, position)).WithHeader("Cache-Control", "no-store");
        });
}
