using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace Jobs.Functions.Api;

/// <summary><c>GET /api/jobs/{id}</c>: the whole job record; a queued job's with its place in line (one range read more).</summary>
public sealed class GetJobFunction(ApiGuard guard, PublicUrls urls, Concurrency.JobSlots slots)
{
    [Function(nameof(GetJob))]
    public Task<IActionResult> GetJob(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "jobs/{id}")] HttpRequest request, string id) =>
        guard.RunAsync(request, [], async caller =>
        {
            var job = await guard.GetVisibleJobAsync(id, caller, request.HttpContext.RequestAborted);
            var position = job.Status == Model.JobStatus.Queued ? await slots.PositionAsync(job, request.HttpContext.RequestAborted) : null;
            return ApiResult.Ok(JobRepresentation.Full(job, urls.BaseUrl(request), position));
        });
}
