using System.ComponentModel.DataAnnotations;
using Jobs.Functions.Lifecycle;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;

namespace Jobs.Functions.Handlers;

/// <summary>Input of <see cref="BulkCancelHandler"/>.</summary>
public sealed record BulkCancelInput
{
    /// <summary>Only jobs of this type; all types when omitted.</summary>
    [StringLength(128)]
    public string? Type { get; init; }

    /// <summary>At most this many jobs are cancelled.</summary>
    [Range(1, 10_000)]
    public int MaxJobs { get; init; } = 1_000;

    /// <summary>How many cancels run at once.</summary>
    [Range(1, 32)]
    public int Parallelism { get; init; } = 8;
}

/// <summary>What cancelling one job did.</summary>
public sealed record BulkCancelItem(string JobId, string Effect);

/// <summary>
/// <c>jobs.bulk-cancel</c>: cancels every live (pending or running) job of its owner that matches the filter — the
/// operator's way out when a bad batch was submitted. One step finds the jobs through the owner's list rows; a parallel
/// step cancels them, one item per job, so a crash never repeats a finished cancel and progress shows how many are done.
/// </summary>
public sealed class BulkCancelHandler(JobListIndex index, JobStore store, JobCommands commands) : JobHandler<BulkCancelInput>
{
    public const string TypeName = "jobs.bulk-cancel";
    private const int PageSize = 100;

    public override string Type => TypeName;

    public override string Description => "Cancels every pending or running job of yours (optionally of one type), in parallel.";

    public override IReadOnlyDictionary<string, string> StaticMetadata { get; } = new Dictionary<string, string> { ["operation"] = "bulk_cancel" };

    public override TimeSpan Timeout => TimeSpan.FromMinutes(30);

    protected override IReadOnlyList<JobStep<BulkCancelInput>> Steps(BulkCancelInput input) =>
    [
        new("find", FindAsync),
        JobStep<BulkCancelInput>.ForEach<string>("cancel", (_, context) => context.GetPreviousOutput<List<string>>() ?? [], CancelAsync, input.Parallelism,
            ItemFailureMode.FinishOthers),
        new("report", ReportAsync),
    ];

    private async Task<object?> FindAsync(BulkCancelInput input, JobStepContext context)
    {
        var query = new JobListQuery
        {
            Scope = new JobListScope.Owner(context.Owner),
            Statuses = new HashSet<JobStatus> { JobStatus.Pending, JobStatus.Running },
            Types = input.Type is null ? new HashSet<string>() : new HashSet<string> { input.Type },
            Limit = PageSize,
        };
        var ids = new List<string>();
        while (ids.Count < input.MaxJobs)
        {
            var page = await index.ListAsync(query, context.CancellationToken);
            ids.AddRange(page.Jobs.Select(j => j.Id).Where(id => id != context.JobId).Take(input.MaxJobs - ids.Count));
            if (page.Next is null)
            {
                break;
            }
            query = query with { After = page.Next };
        }
        await context.LogAsync($"Found {ids.Count} live jobs to cancel.");
        return ids;
    }

    private async Task<object?> CancelAsync(BulkCancelInput input, string jobId, JobStepContext context)
    {
        var job = await store.GetAsync(jobId, context.CancellationToken);
        if (job is null || job.Owner != context.Owner)
        {
            return new BulkCancelItem(jobId, "gone");
        }
        var outcome = await commands.CancelAsync(job, $"{context.Owner} (bulk cancel {context.JobId})", context.CancellationToken);
        await context.LogAsync($"{jobId}: {outcome.Effect}");
        return new BulkCancelItem(jobId, outcome.Effect.ToString());
    }

    private static async Task<object?> ReportAsync(BulkCancelInput input, JobStepContext context)
    {
        var items = context.GetPreviousOutput<List<BulkCancelItem>>() ?? [];
        var byEffect = items.GroupBy(i => i.Effect).ToDictionary(g => g.Key, g => g.Count());
        foreach (var (effect, count) in byEffect)
        {
            context.AddResultMetadata(effect, count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        await context.LogAsync($"Cancel asked for {items.Count} jobs: {string.Join(", ", byEffect.Select(e => $"{e.Value} {e.Key}"))}.");
        return new { jobs = items.Count, effects = byEffect };
    }
}
