using Jobs.Functions.Model;
using Jobs.Functions.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace Jobs.Functions.Api;

/// <summary>A page of log lines; pass <see cref="Next"/> as <c>after</c> to tail (it stays put when nothing is new).</summary>
public sealed record JobLogPage(string JobId, IReadOnlyList<JobLogLine> Lines, string? Next, bool HasMore);

/// <summary><c>GET /api/jobs/{id}/logs?after=&amp;limit=</c>: log lines in order, with a cursor for tailing.</summary>
public sealed class GetJobLogsFunction(ApiGuard guard, JobLogStore logs)
{
    [Function(nameof(GetJobLogs))]
    public Task<IActionResult> GetJobLogs(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "jobs/{id}/logs")] HttpRequest request, string id) =>
        guard.RunAsync(request, ["after", "limit"], async caller =>
        {
            var limit = QueryParameters.Int(request, "limit", 100, 1, 1000);
            var after = QueryParameters.Single(request, "after");
            if (after is not null && !LogCursors.IsValid(after))
            {
                throw ApiProblemException.BadParameter("after", "is not a log cursor (use the 'next' or a line's 'cursor' from an earlier page)");
            }
            var job = await guard.GetVisibleJobAsync(id, caller, request.HttpContext.RequestAborted);
            var lines = await logs.ReadAsync(job.Id, after, limit + 1, request.HttpContext.RequestAborted);
            var page = lines.Take(limit).ToList();
            return ApiResult.Ok(new JobLogPage(job.Id, page, page.Count > 0 ? page[^1].Cursor : after, lines.Count > limit));
        });
}
