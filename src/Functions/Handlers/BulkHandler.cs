using System.Globalization;
using Azure;
using Jobs.Functions.Lifecycle;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;
using Jobs.Functions.Submissions;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Functions.Handlers;

/// <summary>
/// Input of <see cref="BulkHandler"/>, as <c>POST /api/jobs/bulk</c> takes it: an <see cref="Action"/> and either
/// <see cref="Ids"/> or a <see cref="Filter"/> (an empty filter only with <see cref="All"/>).
/// </summary>
public sealed record BulkInput
{
    public string? Action { get; init; }
    public IReadOnlyList<string>? Ids { get; init; }
    public BulkFilter? Filter { get; init; }

    /// <summary>Confirms a filter with no criteria: every job in reach.</summary>
    public bool All { get; init; }

    /// <summary>Set by the route for an admin: the filter reaches every owner's jobs (or <see cref="BulkFilter.Owner"/>'s).</summary>
    public bool AllOwners { get; init; }
}

/// <summary>The list's filters (<c>GET /api/jobs</c>), as a bulk action takes them.</summary>
public sealed record BulkFilter
{
    public IReadOnlyList<string>? Status { get; init; }
    public IReadOnlyList<string>? Type { get; init; }
    public string? CorrelationId { get; init; }

    /// <summary>Only jobs with every one of these tags (as the list's <c>tag</c>).</summary>
    public IReadOnlyList<string?>? Tag { get; init; }
    public string? EntityType { get; init; }
    public string? EntityId { get; init; }

    /// <summary>Admins only: one owner's jobs.</summary>
    public string? Owner { get; init; }
    public DateTimeOffset? CreatedFrom { get; init; }
    public DateTimeOffset? CreatedTo { get; init; }

    public bool IsEmpty => (Status?.Count ?? 0) == 0 && (Type?.Count ?? 0) == 0 && CorrelationId is null && EntityType is null && Owner is null
        && (Tag?.Count ?? 0) == 0 && CreatedFrom is null && CreatedTo is null;
}

/// <summary>What the action did to one job: an effect, or <c>skipped</c> with the reason.</summary>
public sealed record BulkOutcome(string JobId, string Effect, string? Reason = null);

/// <summary>
/// <c>jobs.bulk</c>: one action — <c>cancel</c>, <c>rerun</c> or <c>delete</c> — on up to 10,000 jobs, named or found
/// by the list's filters, scoped as listing is (an owner's own jobs; an admin's reach every owner's). Created only by
/// <c>POST /api/jobs/bulk</c>. One step finds the jobs; a parallel step acts on them, 25 per item (a crash never
/// repeats a finished item, and progress counts the items); the last step reports what was done and what was skipped,
/// and why. Each action is one the API offers for a single job, with the same rules.
/// </summary>
/// <remarks>
/// Reruns go through <see cref="JobReruns"/>, which needs the handler registry this handler is part of: it is resolved
/// when first used (from <paramref name="services"/>), not in the constructor, to keep the graph acyclic.
/// </remarks>
public sealed class BulkHandler(JobListIndex index, JobCounters counters, JobStore store, JobCommands commands, IServiceProvider services) : JobHandler<BulkInput>
{
    public const string TypeName = "jobs.bulk";
    public const int MaxJobs = 10_000;

    /// <summary>Ids one call may name (they travel in the job's input, which is capped); a filter reaches <see cref="MaxJobs"/>.</summary>
    public const int MaxIds = 500;

    public const int JobsPerItem = 25;
    public static readonly string[] Actions = ["cancel", "rerun", "delete"];

    public override string Type => TypeName;

    public override string Description => "Cancels, reruns or deletes many jobs at once: named by id, or found by the list's filters.";

    public override string? CreatedThrough => "POST /api/jobs/bulk";

    public override string? NotResumableReason => "a bulk action is made again with POST /api/jobs/bulk";

    public override IReadOnlyDictionary<string, string> StaticMetadata { get; } = new Dictionary<string, string> { ["operation"] = "bulk" };

    public override TimeSpan Timeout => TimeSpan.FromHours(1);

    protected override IReadOnlyList<string> DeclaredSteps => ["find", "apply", "report"];

    protected override IEnumerable<InputError> Validate(BulkInput input)
    {
        if (input.Action is null || !Actions.Contains(input.Action, StringComparer.Ordinal))
        {
            yield return new InputError("action", $"must be one of {string.Join(", ", Actions)}");
        }
        if (input.Ids is not null && input.Filter is not null)
        {
            yield return new InputError("filter", "give either ids or a filter, not both");
        }
        else if (input.Ids is null && input.Filter is null)
        {
            yield return new InputError("ids", "give the jobs' ids, or a filter");
        }
        if (input.Ids is { } ids)
        {
            if (ids.Count is 0 or > MaxIds)
            {
                yield return new InputError("ids", $"must name 1 to {MaxIds} jobs (a filter reaches up to {MaxJobs:N0})");
            }
            for (var i = 0; i < ids.Count; i++)
            {
                if (!JobIdFormat.IsValid(ids[i]))
                {
                    yield return new InputError($"ids[{i}]", "is not a job id (32 lowercase hexadecimal characters)");
                    break;
                }
            }
        }
        if (input.Filter is { } filter)
        {
            foreach (var error in ValidateFilter(filter, input.AllOwners))
            {
                yield return error with { Field = "filter." + error.Field };
            }
            if (filter.IsEmpty && !input.All)
            {
                yield return new InputError("all", "an empty filter matches every job in reach: confirm with \"all\": true");
            }
        }
    }

    private static IEnumerable<InputError> ValidateFilter(BulkFilter filter, bool admin)
    {
        foreach (var status in filter.Status ?? [])
        {
            if (!JobStatusExtensions.TryParseWire(status, out _))
            {
                yield return new InputError("status", $"must be one of {JobStatusExtensions.WireNames}");
                break;
            }
        }
        if ((filter.Type ?? []).Any(t => t.Length is 0 or > 128 || t.Any(char.IsControl)))
        {
            yield return new InputError("type", "must be job type names");
        }
        foreach (var error in JobFilterRules.Check(filter.CorrelationId, filter.EntityType, filter.EntityId, filter.CreatedFrom, filter.CreatedTo, filter.Tag))
        {
            yield return error;
        }
        if (filter.Owner is not null && !admin)
        {
            yield return new InputError("owner", "only admins may act on other owners' jobs");
        }
    }

    /// <summary>
    /// True when <paramref name="filter"/> matches more than <see cref="MaxJobs"/> jobs in the caller's reach, so the request
    /// can be refused before anything is stored. The counters answer first (one read per partition of the scope: exact
    /// for status and type, as the listing's total is — all jobs' as the reconciler last summed them — and an upper bound
    /// when the filter also has a creation window or a correlation id, which they do not know); only when that bound is
    /// over the cap are the rows walked (<see cref="WalkFindsMoreThanMaxAsync"/>).
    /// </summary>
    public async Task<bool> MatchesMoreThanMaxAsync(BulkFilter filter, bool allOwners, string owner, CancellationToken cancellationToken)
    {
        var query = QueryOf(filter, allOwners, owner, limit: 1_000);
        var counts = await counters.ReadAsync(query.Scope, cancellationToken);
        if (counts.Total(query.Statuses, query.Types, query.Owner) <= MaxJobs)
        {
            return false;
        }
        if (query.CorrelationId is null && query.CreatedFrom is null && query.CreatedTo is null && query.Tags.Count <= 1)
        {
            return true;
        }
        return await WalkFindsMoreThanMaxAsync(async after => await index.ListAsync(query with { After = after }, cancellationToken));
    }

    /// <summary>Listing calls a request's check may make: enough for <see cref="MaxJobs"/> + 1 matches at 1,000 a page.</summary>
    public const int MaxCheckPages = MaxJobs / 1_000 + 2;

    /// <summary>
    /// Walks a filter's pages (<paramref name="page"/>: the page after a cursor, null for the first) until more than
    /// <see cref="MaxJobs"/> matched (true), or the pages end (false), or <see cref="MaxCheckPages"/> were read — a
    /// request's cost stays bounded when a sparse filter's pages come back short over a large partition. Undecided
    /// then, it is false: the bulk job's find step walks the whole filter and fails, changing nothing, when it is over.
    /// </summary>
    public static async Task<bool> WalkFindsMoreThanMaxAsync(Func<string?, Task<JobPage>> page)
    {
        var matched = 0;
        string? after = null;
        for (var read = 0; read < MaxCheckPages; read++)
        {
            var next = await page(after);
            matched += next.Jobs.Count;
            if (matched > MaxJobs)
            {
                return true;
            }
            if (next.Next is null)
            {
                return false;
            }
            after = next.Next;
        }
        return false;
    }

    /// <summary>
    /// The listing a filter walks: the caller's reach (<paramref name="allOwners"/>: an admin's), as listing scopes it. A
    /// filter by tags walks its first tag's partition and checks the others on the row (the counters then bound the match
    /// by that tag's jobs, and the rows are walked when that bound is over the cap).
    /// </summary>
    public static JobListQuery QueryOf(BulkFilter filter, bool allOwners, string owner, int limit = 100) => new()
    {
        Scope = filter.EntityType is not null ? new JobListScope.Entity(filter.EntityType, filter.EntityId!)
            : filter.Tag is [{ } first, ..] ? new JobListScope.Tag(first)
            : allOwners && filter.Owner is null ? new JobListScope.All()
            : new JobListScope.Owner(filter.Owner ?? owner),
        Owner = filter.EntityType is not null || filter.Tag is { Count: > 0 } ? (allOwners ? filter.Owner : owner) : null,
        Tags = [.. (filter.Tag ?? []).OfType<string>()],
        Statuses = new HashSet<JobStatus>((filter.Status ?? []).Select(s => JobStatusExtensions.TryParseWire(s, out var status) ? status : default)),
        Types = new HashSet<string>(filter.Type ?? [], StringComparer.Ordinal),
        CorrelationId = filter.CorrelationId,
        CreatedFrom = filter.CreatedFrom,
        CreatedTo = filter.CreatedTo,
        Limit = limit,
    };

    protected override IReadOnlyList<JobStep<BulkInput>> Steps(BulkInput input) =>
    [
        new("find", FindAsync),
        JobStep<BulkInput>.ForEach<List<string>>("apply", (_, context) => [.. (context.GetPreviousOutput<List<string>>() ?? []).Chunk(JobsPerItem).Select(c => c.ToList())],
            ApplyAsync, maxParallelism: 4, ItemFailureMode.FinishOthers),
        new("report", ReportAsync),
    ];

    /// <summary>The ids to act on: those named (checked to exist and be in reach), or a walk of the list's rows.</summary>
    private async Task<object?> FindAsync(BulkInput input, JobStepContext context)
    {
        if (input.Ids is { } named)
        {
            // Only the named jobs that exist and are in reach go on; the others are reported skipped (not found).
            var ids = new List<string>();
            foreach (var id in named.Distinct(StringComparer.Ordinal).Where(id => id != context.JobId))
            {
                if (await store.GetAsync(id, context.CancellationToken) is { } job && (input.AllOwners || job.Owner == context.Owner))
                {
                    ids.Add(id);
                }
            }
            await context.LogAsync($"{named.Distinct(StringComparer.Ordinal).Count()} job(s) named, {ids.Count} found.");
            return ids;
        }
        var query = QueryOf(input.Filter!, input.AllOwners, context.Owner);
        var found = new List<string>();
        while (true)
        {
            var page = await index.ListAsync(query, context.CancellationToken);
            found.AddRange(page.Jobs.Select(j => j.Id).Where(id => id != context.JobId));
            if (found.Count > MaxJobs)
            {
                throw new InvalidOperationException($"The filter matches more than {MaxJobs:N0} jobs; narrow it. Nothing was changed.");
            }
            if (page.Next is null)
            {
                break;
            }
            query = query with { After = page.Next };
        }
        await context.LogAsync($"The filter matched {found.Count} job(s).");
        return found;
    }

    private async Task<object?> ApplyAsync(BulkInput input, List<string> ids, JobStepContext context)
    {
        var outcomes = new List<BulkOutcome>(ids.Count);
        foreach (var id in ids)
        {
            outcomes.Add(await WithRetriesAsync(() => ApplyOneAsync(input, id, context), context.CancellationToken));
        }
        var summary = outcomes.GroupBy(o => o.Reason is null ? o.Effect : $"skipped ({o.Reason})").Select(g => $"{g.Count()} {g.Key}");
        await context.LogAsync($"{ids.Count} job(s): {string.Join(", ", summary)}.");
        return outcomes;
    }

    private async Task<BulkOutcome> ApplyOneAsync(BulkInput input, string id, JobStepContext context)
    {
        var job = await store.GetAsync(id, context.CancellationToken);
        if (job is null)
        {
            // Gone since the find step saw it: a delete counts it done (which keeps a retried item's count exact).
            return input.Action == "delete" ? new BulkOutcome(id, "deleted") : new BulkOutcome(id, "skipped", "not found");
        }
        if (!input.AllOwners && job.Owner != context.Owner)
        {
            return new BulkOutcome(id, "skipped", "not found");
        }
        try
        {
            return await ActAsync(input, job, context);
        }
        // Refusals of one job are that job's outcome, never the whole bulk's failure (other jobs were acted on already).
        catch (JobStateException)
        {
            return new BulkOutcome(id, "skipped", "refused in its state");
        }
        catch (InputValidationException)
        {
            return new BulkOutcome(id, "skipped", "input no longer valid");
        }
        catch (IdempotencyKeyReusedException)
        {
            return new BulkOutcome(id, "skipped", "idempotency key conflict");
        }
        catch (JobVanishedException)
        {
            return input.Action == "delete" ? new BulkOutcome(id, "deleted") : new BulkOutcome(id, "skipped", "not found");
        }
    }

    private async Task<BulkOutcome> ActAsync(BulkInput input, Job job, JobStepContext context)
    {
        var id = job.Id;
        // The bulk job's owner, acting through it: its own audit trail says who made it and from where.
        var actor = AuditActor.User(context.Owner, null, null, null).ThroughBulk(context.JobId);
        var durable = context.Durable ?? throw new InvalidOperationException("A bulk action runs in an activity with a durable client.");
        switch (input.Action)
        {
            case "cancel":
                var cancel = await commands.CancelAsync(job, actor, context.CancellationToken, durable);
                return cancel.Effect switch
                {
                    CancelEffect.CancelledNow => new BulkOutcome(id, "cancelled"),
                    CancelEffect.Requested => new BulkOutcome(id, "cancel_requested"),
                    _ => new BulkOutcome(id, "skipped", "already ended"),
                };
            case "rerun":
                if (!job.Status.IsTerminal())
                {
                    return new BulkOutcome(id, "skipped", "not ended");
                }
                // Keyed by this bulk job and the original: a retried item reruns each job once.
                await services.GetRequiredService<JobReruns>().RerunAsync(job, new RerunRequest(), null, actor, durable, context.CancellationToken,
                    derivedIdempotencyKey: SubmissionRules.BulkKeyPrefix + context.JobId + ":" + id);
                return new BulkOutcome(id, "rerun");
            default:
                return await commands.DeleteAsync(job, durable, actor, context.CancellationToken) switch
                {
                    DeleteEffect.Deleted => new BulkOutcome(id, "deleted"),
                    DeleteEffect.NotEnded => new BulkOutcome(id, "skipped", "not ended"),
                    _ => new BulkOutcome(id, "skipped", "still finishing"),
                };
        }
    }

    /// <summary>A storage fault on one job is retried here, so it does not send the item's other jobs round again.</summary>
    private static async Task<BulkOutcome> WithRetriesAsync(Func<Task<BulkOutcome>> action, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await action();
            }
            catch (RequestFailedException ex) when (attempt < 5 && ex.Status is 0 or 408 or 429 or >= 500)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), cancellationToken);
            }
        }
    }

    private static async Task<object?> ReportAsync(BulkInput input, JobStepContext context)
    {
        var outcomes = (context.GetPreviousOutput<List<List<BulkOutcome>>>() ?? []).SelectMany(o => o).ToList();
        if (input.Ids is { } named)
        {
            // Named jobs the find step did not pass on: not there, or not in the caller's reach.
            var acted = outcomes.Select(o => o.JobId).ToHashSet(StringComparer.Ordinal);
            outcomes.AddRange(named.Distinct(StringComparer.Ordinal).Where(id => id != context.JobId && !acted.Contains(id))
                .Select(id => new BulkOutcome(id, "skipped", "not found")));
        }
        var done = outcomes.Where(o => o.Reason is null).GroupBy(o => o.Effect).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var skipped = outcomes.Where(o => o.Reason is not null).GroupBy(o => o.Reason!).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        context.AddResultMetadata("matched", outcomes.Count.ToString(CultureInfo.InvariantCulture));
        foreach (var (effect, count) in done)
        {
            context.AddResultMetadata(effect, count.ToString(CultureInfo.InvariantCulture));
        }
        context.AddResultMetadata("skipped", skipped.Values.Sum().ToString(CultureInfo.InvariantCulture));
        await context.LogAsync($"{input.Action}: {outcomes.Count} matched; done: {Describe(done)}; skipped: {Describe(skipped)}.");
        return new
        {
            action = input.Action,
            matched = outcomes.Count,
            done,
            skipped,
            // The first skipped jobs and why (the counts above are complete; the result has a size cap).
            skippedJobs = outcomes.Where(o => o.Reason is not null).Take(100).Select(o => new { id = o.JobId, reason = o.Reason }),
        };
    }

    private static string Describe(Dictionary<string, int> counts) =>
        counts.Count == 0 ? "none" : string.Join(", ", counts.Select(c => $"{c.Value} {c.Key}"));
}
