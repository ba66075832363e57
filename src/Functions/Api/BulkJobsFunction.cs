using System.Text.Json;
using Jobs.Functions.Handlers;
using Jobs.Functions.Model;
using Jobs.Functions.Submissions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace Jobs.Functions.Api;

/// <summary>The body of <c>POST /api/jobs/bulk</c>: <see cref="BulkInput"/> without what the service decides (the scope).</summary>
public sealed record BulkRequest
{
    public string? Action { get; init; }
    public IReadOnlyList<string>? Ids { get; init; }
    public BulkFilter? Filter { get; init; }
    public bool All { get; init; }
}

/// <summary>
/// <c>POST /api/jobs/bulk</c>: <c>202</c> with a <c>jobs.bulk</c> job that cancels, reruns or deletes the jobs named by
/// <c>ids</c> or matched by <c>filter</c> — the caller's own, or for an admin every owner's — and whose result says what
/// was done and what was skipped, and why. Bad input is <c>400</c> naming the field (<c>action</c>, <c>ids</c>,
/// <c>filter.status</c>, <c>all</c>, …), and nothing is created; so is a filter that matches more than
/// <see cref="BulkHandler.MaxJobs"/> jobs (naming <c>filter</c>), checked here from the counters
/// (<see cref="BulkHandler.MatchesMoreThanMaxAsync"/>). Honours <c>Idempotency-Key</c>.
/// </summary>
public sealed class BulkJobsFunction(ApiGuard guard, JobSubmissionService submissions, JobHandlerRegistry handlers, PublicUrls urls)
{
    [Function(nameof(BulkJobs))]
    public Task<IActionResult> BulkJobs(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "jobs/bulk")] HttpRequest request,
        [DurableClient] DurableTaskClient durable) =>
        guard.RunAsync(request, [], async caller =>
        {
            var cancellation = request.HttpContext.RequestAborted;
            var body = await RequestBody.ReadAsync<BulkRequest>(request, cancellation);
            if (body.Ids is { Count: > BulkHandler.MaxIds })
            {
                // Checked before the ids become the job's input, whose size cap would otherwise answer for them.
                throw ApiProblemException.BadParameter("ids", $"must name 1 to {BulkHandler.MaxIds} jobs (a filter reaches up to {BulkHandler.MaxJobs:N0})");
            }
            // The list's own limits on filter values (known ones, at most 10 each), as GET /api/jobs applies them.
            if (body.Filter is { } filter
                && (JobListLimits.CheckFilter("filter.status", filter.Status ?? [], JobListing.StatusNames)
                    ?? JobListLimits.CheckFilter("filter.type", filter.Type ?? [], [.. handlers.TypeNames])) is { } problem)
            {
                throw new InputValidationException([problem]);
            }
            var input = new BulkInput { Action = body.Action, Ids = body.Ids, Filter = body.Filter, All = body.All, AllOwners = caller.IsAdmin };

            var submission = new JobSubmission
            {
                Type = BulkHandler.TypeName,
                Input = JsonSerializer.SerializeToElement(input, JobJson.Options),
                IdempotencyKey = request.Headers[CreateJobFunction.IdempotencyHeader].FirstOrDefault(),
            };
            CreateOutcome outcome;
            try
            {
                // The shape first (the handler's validation names every problem), then the reach, which reads the counters.
                submissions.Validate(submission, byService: true);
                if (body.Filter is { } reach && body.Ids is null
                    && await ((BulkHandler)handlers.Get(BulkHandler.TypeName)).MatchesMoreThanMaxAsync(reach, caller.IsAdmin, caller.Id, cancellation))
                {
                    throw ApiProblemException.BadParameter("filter",
                        $"matches more than {BulkHandler.MaxJobs:N0} jobs, the most one bulk action may reach; narrow it (by status, type or creation time) or split it");
                }
                outcome = await submissions.CreateAsync(submission, caller.Id, null, durable, cancellation, byService: true, actor: guard.Actor(request, caller));
            }
            catch (InputValidationException invalid)
            {
                // The handler names fields inside the job's input; here they are the request's own.
                throw new InputValidationException([.. invalid.Errors.Select(e => e with { Field = e.Field.StartsWith("input.", StringComparison.Ordinal) ? e.Field["input.".Length..] : e.Field })]);
            }
            var baseUrl = urls.BaseUrl(request);
            return ApiResult.JobAccepted(JobRepresentation.Full(outcome.Job, baseUrl), outcome.Job.Id, baseUrl, outcome.Created);
        });
}
