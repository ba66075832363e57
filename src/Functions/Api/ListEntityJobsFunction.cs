using Jobs.Functions.Handlers;
using Jobs.Functions.Model;
using Jobs.Functions.Submissions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace Jobs.Functions.Api;

/// <summary><c>GET /api/entities/{type}/{id}/jobs</c>: the jobs attached to one resource, e.g. release 42.</summary>
public sealed class ListEntityJobsFunction(ApiGuard guard, JobListing listing)
{
    [Function(nameof(ListEntityJobs))]
    public Task<IActionResult> ListEntityJobs(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "entities/{type}/{id}/jobs")] HttpRequest request,
        string type, string id) =>
        guard.RunAsync(request, [.. JobListing.CommonParameters, "owner"], async caller =>
        {
            var errors = new List<InputError>();
            SubmissionRules.CheckText(errors, "type", type, required: true);
            SubmissionRules.CheckText(errors, "id", id, required: true);
            if (errors.Count > 0)
            {
                throw new InputValidationException(errors);
            }
            return ApiResult.Ok(await listing.ListAsync(request, caller, new EntityRef(type, id), request.HttpContext.RequestAborted));
        });
}
