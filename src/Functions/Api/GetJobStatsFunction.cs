using System.ComponentModel.DataAnnotations;
using Jobs.Functions.Handlers;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace Jobs.Functions.Api;

/// <summary>Counts of one job type, by status.</summary>
public sealed record JobTypeStats(long Total, IReadOnlyDictionary<string, long> ByStatus);

/// <summary>
/// The body of <c>GET /api/jobs/stats</c>. <see cref="Scope"/> is <c>all</c> (admins) or <c>owner</c>; the counts come
/// from counters kept with the transitions, never from the jobs. <see cref="Consistency"/> says how far they may trail
/// the listing: <c>immediate</c> for an owner (a transition counts in the transaction that writes its list rows, so the
/// counts agree with a paging walk at any time), <c>periodic</c> for all jobs (the buckets' counts as the reconciler last
/// summed them, every run: up to one reconciler period behind).
/// </summary>
public sealed record JobStatsView(
    [property: AllowedValues(JobStatsView.AllScope, JobStatsView.OwnerScope)] string Scope,
    string? Owner, long Total, IReadOnlyDictionary<string, long> ByStatus, IReadOnlyDictionary<string, JobTypeStats> ByType,
    [property: AllowedValues(JobStatsView.Immediate, JobStatsView.Periodic)] string Consistency)
{
    public const string AllScope = "all";
    public const string OwnerScope = "owner";
    public const string Immediate = "immediate";
    public const string Periodic = "periodic";
}

/// <summary><c>GET /api/jobs/stats</c>: how many jobs the caller's scope holds, by status and type, without reading the jobs.</summary>
public sealed class GetJobStatsFunction(ApiGuard guard, JobCounters counters, JobHandlerRegistry handlers)
{
    [Function(nameof(GetJobStats))]
    public Task<IActionResult> GetJobStats(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "jobs/stats")] HttpRequest request) =>
        guard.RunAsync(request, ["owner"], async caller =>
        {
            var owner = QueryParameters.Single(request, "owner");
            if (owner is not null && !caller.IsAdmin && owner != caller.Id)
            {
                throw new ApiProblemException(StatusCodes.Status403Forbidden, "Forbidden", "Only admins may see other owners' counts.");
            }
            JobListScope scope = caller.IsAdmin && owner is null ? new JobListScope.All() : new JobListScope.Owner(owner ?? caller.Id);
            var counts = await counters.ReadAsync(scope, request.HttpContext.RequestAborted);
            return ApiResult.Ok(View(scope, counts));
        });

    private JobStatsView View(JobListScope scope, JobCounts counts)
    {
        var none = new HashSet<JobStatus>();
        var types = handlers.TypeNames.Concat(counts.ByKey.Keys.Select(k => k.Type)).Distinct().Order(StringComparer.Ordinal);
        var byType = new Dictionary<string, JobTypeStats>();
        foreach (var type in types)
        {
            var only = new HashSet<string>(StringComparer.Ordinal) { type };
            byType[type] = new JobTypeStats(counts.Total(none, only), ByStatus(counts, only));
        }
        return new JobStatsView(
            scope is JobListScope.Owner ? JobStatsView.OwnerScope : JobStatsView.AllScope,
            (scope as JobListScope.Owner)?.Name,
            counts.Total(none, new HashSet<string>()),
            ByStatus(counts, new HashSet<string>()),
            byType,
            scope is JobListScope.All ? JobStatsView.Periodic : JobStatsView.Immediate);
    }

    private static Dictionary<string, long> ByStatus(JobCounts counts, IReadOnlySet<string> types) =>
        Enum.GetValues<JobStatus>().ToDictionary(s => s.ToWire(), s => counts.Total(new HashSet<JobStatus> { s }, types));
}
