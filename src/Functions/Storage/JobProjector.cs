using Azure;
using Azure.Data.Tables;
using Jobs.Functions.Model;
using Jobs.Functions.Webhooks;
using Microsoft.Extensions.Logging;

namespace Jobs.Functions.Storage;

/// <summary>
/// The one writer of everything derived from a job's record: its list rows in every scope, its live-job row, the count
/// deltas, the <c>job-events</c> message of its ending and the webhook deliveries its change owes
/// (<see cref="WebhookOutbox"/>). It brings each list partition of the job to the record's latest status change with
/// one <see cref="ProjectionPlan"/> per partition — an entity-group transaction guarded by the job's marker row there,
/// so applying a change twice, late, or from two instances at once changes nothing.
/// It runs right after the record change that owes it (<see cref="JobStore"/>), and again from the reconciler for a
/// change a crash or a fault left unsettled (its <see cref="JobChange"/> row is still beside the record).
/// </summary>
public sealed partial class JobProjector(StorageClients clients, IndexLayout layout, JobEventPublisher events, WebhookOutbox webhooks, ILogger<JobProjector> logger)
{
    /// <summary>Tries per partition when other writers keep moving it meanwhile (each try reads what it shows).</summary>
    private const int MaxTries = 8;

    private readonly TableClient _table = clients.JobsTable;

    /// <summary>
    /// Brings every list partition of <paramref name="job"/> to its state as stored (<paramref name="stamp"/>).
    /// <paramref name="expected"/> is what the partitions should show before (the state the change started from; for a
    /// creation, nothing) — right in the usual case, so each partition costs one transaction; when it is unknown
    /// (<see cref="Expected.Unknown"/>) or wrong, the partition's marker is read first. An ending publishes its
    /// <c>job-events</c> message, and any change announces its webhook deliveries, before the all-jobs partition, whose
    /// transaction settles the change (and removes an ended job's live-job row) last: a crash before it leaves the change
    /// for the reconciler, which announces it again.
    /// </summary>
    public async Task ApplyAsync(Job job, JobStamp stamp, Expected expected, CancellationToken cancellationToken)
    {
        var target = new ProjectedState(stamp.Seq, job.Status, stamp.ChangedAt, job.CreatedAt);
        var all = layout.AllPartitionOf(job.Id);
        var others = layout.PartitionsOf(job).Where(p => p != all).ToList();
        if (stamp.Seq == 1 && LiveJobIndex.IsLive(job.Status))
        {
            // A live creation is projected before its record is written: the all-jobs transaction, with the live-job row,
            // goes first, so every list row written has a live-job row by which the reconciler finds it.
            await ApplyToAsync(job, all, target, expected, others, null, cancellationToken);
            foreach (var partition in others)
            {
                await ApplyToAsync(job, partition, target, expected, [], null, cancellationToken);
            }
            return;
        }
        foreach (var partition in others)
        {
            await ApplyToAsync(job, partition, target, expected, [], null, cancellationToken);
        }
        Func<ProjectedState?, Task> announce = async shown =>
        {
            if (job.Status.IsTerminal())
            {
                await events.PublishAsync(job, stamp, cancellationToken);
            }
            await webhooks.AnnounceAsync(job, shown?.Status, stamp, recheck: !expected.Known, cancellationToken);
        };
        await ApplyToAsync(job, all, target, expected, others, announce, cancellationToken);
    }

    /// <summary>
    /// A running job's progress changed (no status change, so nothing to project): its throttled <c>job.progress</c>
    /// webhook events, sent without holding the caller (<see cref="WebhookOutbox.AnnounceProgress"/>).
    /// </summary>
    public void Progressed(Job job) => webhooks.AnnounceProgress(job);

    /// <summary>Takes the job out of every list partition it is in (retention; a create whose record never came). Idempotent.</summary>
    public async Task RemoveAsync(Job job, CancellationToken cancellationToken)
    {
        var all = layout.AllPartitionOf(job.Id);
        var others = layout.PartitionsOf(job).Where(p => p != all).ToList();
        foreach (var partition in others.Append(all))
        {
            for (var attempt = 1; ; attempt++)
            {
                if (await ReadStateAsync(partition, job.Id, cancellationToken) is not { } shown)
                {
                    break;
                }
                var plan = ProjectionPlan.Remove(job, partition, partition == all, shown, partition == all ? others : []);
                if (await TrySubmitAsync(plan, split: attempt > 1, cancellationToken))
                {
                    break;
                }
                if (attempt >= MaxTries)
                {
                    throw new InvalidOperationException($"Job {job.Id}'s rows in {partition} kept changing while they were removed.");
                }
            }
        }
    }

    private async Task ApplyToAsync(Job job, string partition, ProjectedState target, Expected expected, IReadOnlyCollection<string> dirty,
        Func<ProjectedState?, Task>? announce, CancellationToken cancellationToken)
    {
        var known = expected.Known;
        var from = expected.State;
        ProjectedState? lastRead = null;
        var readBefore = false;
        for (var attempt = 1; ; attempt++)
        {
            var split = false;
            if (!known)
            {
                from = await ReadStateAsync(partition, job.Id, cancellationToken);
                if (from is not null && from.Seq >= target.Seq)
                {
                    return; // applied already, or a later change is
                }
                // Read the same state twice and still refused: a row the plan deletes is missing (written by an older
                // version, or removed by hand); the required part goes in alone and the rest is deleted where it is.
                split = readBefore && from == lastRead;
                lastRead = from;
                readBefore = true;
                known = true;
            }
            if (announce is not null)
            {
                await announce(from); // once, before the write that settles the change, with the status it settles it from
                announce = null;
            }
            if (await TrySubmitAsync(ProjectionPlan.Apply(job, partition, partition == layout.AllPartitionOf(job.Id), from, target, dirty), split, cancellationToken))
            {
                return;
            }
            if (attempt >= MaxTries)
            {
                throw new InvalidOperationException($"Job {job.Id}'s rows in {partition} kept changing while change {target.Seq} was projected.");
            }
            LogUnexpected(job.Id, partition, target.Seq);
            known = false;
        }
    }

    /// <summary>Submits a plan; false when the partition was not in the state it starts from (404 or 409: nothing was applied).</summary>
    private async Task<bool> TrySubmitAsync(ProjectionPlan plan, bool split, CancellationToken cancellationToken)
    {
        try
        {
            await _table.SubmitTransactionAsync(split ? plan.Required : plan.All, cancellationToken);
        }
        catch (TableTransactionFailedException ex) when (ex.Status is 404 or 409)
        {
            return false;
        }
        if (split)
        {
            foreach (var delete in plan.Cleanup)
            {
                try
                {
                    await _table.DeleteEntityAsync(delete.Entity.PartitionKey, delete.Entity.RowKey, ETag.All, cancellationToken);
                }
                catch (RequestFailedException ex) when (ex.Status == 404)
                {
                    // Already gone: the goal.
                }
            }
        }
        return true;
    }

    /// <summary>What <paramref name="partition"/> shows of the job (its marker row), or null when the job is not there.</summary>
    public async Task<ProjectedState?> ReadStateAsync(string partition, string jobId, CancellationToken cancellationToken)
    {
        var (from, to) = ProjectionPlan.MarkerRange(jobId);
        ProjectedState? latest = null;
        await foreach (var row in _table.QueryAsync<TableEntity>(
            TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {from} and RowKey lt {to}"), cancellationToken: cancellationToken))
        {
            if (ProjectionPlan.ReadMarker(row) is { } state && (latest is null || state.Seq > latest.Seq))
            {
                latest = state;
            }
        }
        return latest;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Job {JobId}: {Partition} was not in the expected state for change {Seq}; reading what it shows.")]
    private partial void LogUnexpected(string jobId, string partition, int seq);
}

/// <summary>What the job's list partitions are expected to show before a projection.</summary>
public readonly record struct Expected(bool Known, ProjectedState? State)
{
    /// <summary>Not known: each partition's marker is read first.</summary>
    public static Expected Unknown => new(false, null);

    /// <summary>The job is in no partition yet (its creation).</summary>
    public static Expected Nothing => new(true, null);

    public static Expected Shows(ProjectedState state) => new(true, state);
}
