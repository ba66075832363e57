using System.Text.Json;
using Jobs.Functions.Model;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace Jobs.Functions.Api;

/// <summary>The outcome of an ended job.</summary>
public sealed record JobResultView(string Id, JobStatus Status, JsonElement? Result, IReadOnlyDictionary<string, string> Metadata, JobError? Error, DateTimeOffset? CompletedAt);

/// <summary>
/// <c>GET /api/jobs/{id}/result</c>: 200 with the result (or the error) once the job has ended;
/// 409 while it has not, naming its status.
/// </summary>
public sealed class GetJobResultFunction(ApiGuard guard)
{
    [Function(nameof(GetJobResult))]
    public Task<IActionResult> GetJobResult(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "jobs/{id}/result")] HttpRequest request, string id) =>
        guard.RunAsync(request, [], async caller =>
        {
            var job = await guard.GetVisibleJobAsync(id, caller, request.HttpContext.RequestAborted);
            if (!job.Status.IsTerminal())
            {
                throw ApiProblemException.Conflict($"Job {job.Id} is {job.Status.ToWire()}; it has no result yet.");
            }
            return ApiResult.Ok(new JobResultView(job.Id, job.Status, job.Result, job.Metadata, job.Error, job.CompletedAt));
        });
}
