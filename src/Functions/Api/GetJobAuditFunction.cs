using Jobs.Functions.Model;
using Jobs.Functions.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace Jobs.Functions.Api;

/// <summary>A page of a job's audit trail, oldest first; pass <see cref="Next"/> as <c>after</c> for the next page (it stays put when nothing is new).</summary>
public sealed record JobAuditPage(string JobId, IReadOnlyList<JobAuditEntry> Entries, string? Next, bool HasMore);

/// <summary>
/// <c>GET /api/jobs/{id}/audit?after=&amp;limit=</c>: who did what to the job, when and from where — its creation, draft
/// edits, submission, cancels, reruns, terminations, events raised, history purged — as the job's logs are paged, and
/// under the same ownership rule as the job (its owner, or an admin; anyone else gets the job's 404). A client address is
/// shown to admins and to the person it belongs to: an owner sees that an admin cancelled their job, not where from.
/// </summary>
public sealed class GetJobAuditFunction(ApiGuard guard, JobAuditLog audit)
{
    [Function(nameof(GetJobAudit))]
    public Task<IActionResult> GetJobAudit(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "jobs/{id}/audit")] HttpRequest request, string id) =>
        guard.RunAsync(request, ["after", "limit"], async caller =>
        {
            var limit = QueryParameters.Int(request, "limit", 100, 1, 1000);
            var after = QueryParameters.Single(request, "after");
            if (after is not null && !LogCursors.IsValid(after))
            {
                throw ApiProblemException.BadParameter("after", "is not an audit cursor (use the 'next' or an entry's 'cursor' from an earlier page)");
            }
            var job = await guard.GetVisibleJobAsync(id, caller, request.HttpContext.RequestAborted);
            var entries = await audit.ReadAsync(job.Id, after, limit + 1, request.HttpContext.RequestAborted);
            var page = entries.Take(limit)
                .Select(e => caller.IsAdmin || e.Actor.ClientAddress is null || e.Actor.Id == caller.Id ? e : e with { Actor = e.Actor with { ClientAddress = null } })
                .ToList();
            return ApiResult.Ok(new JobAuditPage(job.Id, page, page.Count > 0 ? page[^1].Cursor : after, entries.Count > limit));
        });
}
