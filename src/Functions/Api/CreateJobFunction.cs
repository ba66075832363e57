using Jobs.Functions.Model;
using Jobs.Functions.Submissions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Jobs.Functions.Api;

/// <summary><c>POST /api/jobs</c>: accepts a job and returns at once; the work runs as an orchestration.</summary>
public sealed class CreateJobFunction(ApiGuard guard, JobSubmissionService submissions, PublicUrls urls)
{
    public const string IdempotencyHeader = "Idempotency-Key";

    [Function(nameof(CreateJob))]
    public Task<IActionResult> CreateJob(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "jobs")] HttpRequest request,
        [DurableClient] DurableTaskClient durable) =>
        guard.RunAsync(request, [], async caller =>
        {
            var cancellation = request.HttpContext.RequestAborted;
            var submission = await RequestBody.ReadAsync<JobSubmission>(request, cancellation);
            if (submission.Owner is not null)
            {
                throw ApiProblemException.BadParameter("owner", "is taken from your identity; leave it out");
            }
            var headerKey = request.Headers[IdempotencyHeader].FirstOrDefault();
            if (headerKey is not null && submission.IdempotencyKey is not null && headerKey != submission.IdempotencyKey)
            {
                throw ApiProblemException.BadParameter("idempotencyKey", $"differs from the {IdempotencyHeader} header");
            }
            var outcome = await submissions.CreateAsync(
                submission with { IdempotencyKey = headerKey ?? submission.IdempotencyKey }, caller.Id, durable, cancellation, guard.Actor(request, caller));

            var job = outcome.Job;
            var status = job.Status == JobStatus.Draft ? StatusCodes.Status201Created : StatusCodes.Status202Accepted;
            var baseUrl = urls.BaseUrl(request);
            var body = JobRepresentation.Full(job, baseUrl);
            if (caller.IsAdmin && job.Status != JobStatus.Draft)
            {
                body["nativeManagementUrls"] = System.Text.Json.JsonSerializer.SerializeToNode(
                    NativeManagementLinks.For(durable, baseUrl, job.Id), JobJson.Options);
            }
            return ApiResult.JobAccepted(body, job.Id, baseUrl, outcome.Created, status);
        });
}
