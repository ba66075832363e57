using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace Jobs.Functions.Api;

/// <summary><c>GET /api/jobs</c>: the caller's jobs (admins: everyone's), newest first, filtered and paged.</summary>
public sealed class ListJobsFunction(ApiGuard guard, JobListing listing)
{
    [Function(nameof(ListJobs))]
    public Task<IActionResult> ListJobs(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "jobs")] HttpRequest request) =>
        guard.RunAsync(request, JobListing.ListParameters, async caller =>
            ApiResult.Ok(await listing.ListAsync(request, caller, null, request.HttpContext.RequestAborted)));
}
