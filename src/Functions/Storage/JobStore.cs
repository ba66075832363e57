using Azure;
using Azure.Data.Tables;
using Jobs.Functions.Model;
using Microsoft.Extensions.Logging;

namespace Jobs.Functions.Storage;

/// <summary>The result of a conditional update: the job as stored afterwards, and whether this call changed it.</summary>
public sealed record JobUpdate(Job Job, bool Changed);

/// <summary>
/// Job records, the truth clients read. Every update is read–change–write under the ETag that was read; on a 412
/// the change is re-applied to the fresh record, never written blind. A status change is then projected — list rows
/// (<see cref="JobListIndex"/>) and the live-job index (<see cref="LiveJobIndex"/>) — and the projection is confirmed
/// on the record (<see cref="Job.ListedAt"/>), so a projection that failed is visible and is healed by the next
/// write of any kind, or by the reconciler.
/// </summary>
public sealed partial class JobStore(StorageClients clients, JobListIndex list, LiveJobIndex live, TimeProvider time, ILogger<JobStore> logger)
{
    private const int MaxConflictRetries = 16;
    private readonly TableClient _table = clients.JobsTable;

    public DateTimeOffset Now => time.GetUtcNow();

    /// <summary>
    /// Inserts a new record (409 from storage if the id exists). A live job's row in the live-job index is written
    /// first, so a record that exists can always be found by the reconciler, whatever fails after. The list rows
    /// are not written here: call <see cref="ProjectAsync"/> (a failure there is healed later).
    /// </summary>
    public async Task<Job> CreateAsync(Job job, CancellationToken cancellationToken)
    {
        job = job with { IndexedAt = job.CreatedAt, ListedAt = null };
        if (LiveJobIndex.IsLive(job) && job.Deadline is { } deadline)
        {
            await live.AddAsync(job.Id, deadline, cancellationToken);
        }
        var response = await _table.AddEntityAsync(JobEntity.FromJob(job), cancellationToken);
        return job with { ETag = response.Headers.ETag ?? default };
    }

    public async Task<Job?> GetAsync(string id, CancellationToken cancellationToken)
    {
        var response = await _table.GetEntityIfExistsAsync<JobEntity>(id, TableKeys.RecordRowKey, cancellationToken: cancellationToken);
        return response.HasValue ? response.Value!.ToJob() : null;
    }

    /// <summary>
    /// Applies <paramref name="change"/> to the current record and writes it under its ETag. The change returns
    /// null to leave the record alone. Returns null when the job does not exist.
    /// </summary>
    public Task<JobUpdate?> UpdateAsync(string id, Func<Job, Job?> change, CancellationToken cancellationToken) =>
        UpdateCoreAsync(id, null, change, cancellationToken);

    /// <summary>As above, starting from a record just read (saves a read; re-reads only on a conflict).</summary>
    public Task<JobUpdate?> UpdateAsync(Job known, Func<Job, Job?> change, CancellationToken cancellationToken) =>
        UpdateCoreAsync(known.Id, known, change, cancellationToken);

    private async Task<JobUpdate?> UpdateCoreAsync(string id, Job? known, Func<Job, Job?> change, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var current = known ?? await GetAsync(id, cancellationToken);
            known = null;
            if (current is null)
            {
                return null;
            }
            var next = change(current);
            if (next is null || next == current)
            {
                // Nothing to change — but an earlier writer may have changed the status and failed to project it
                // (a retried call after a fault lands here): heal that now.
                return new JobUpdate(current.ListingPending ? await HealAsync(current, cancellationToken) : current, false);
            }
            var now = Now;
            var statusChanged = next.Status != current.Status;
            next = next with { UpdatedAt = now, IndexedAt = statusChanged ? now : current.IndexedAt };
            var liveDeadline = LiveJobIndex.IsLive(next) ? next.Deadline : null;
            var wasLiveDeadline = LiveJobIndex.IsLive(current) ? current.Deadline : null;
            if (liveDeadline is { } deadline && deadline != wasLiveDeadline)
            {
                await live.AddAsync(id, deadline, cancellationToken);
            }
            Job stored;
            try
            {
                var response = await _table.UpdateEntityAsync(JobEntity.FromJob(next), current.ETag, TableUpdateMode.Replace, cancellationToken);
                stored = next with { ETag = response.Headers.ETag ?? default };
            }
            catch (RequestFailedException ex) when (ex.Status == 412 && attempt < MaxConflictRetries)
            {
                LogConflict(id, attempt);
                continue;
            }
            if (stored.ListingPending)
            {
                stored = await ProjectAsync(stored, current.IndexedAt, cancellationToken);
            }
            if (wasLiveDeadline is { } old && old != liveDeadline)
            {
                // Removed only once the new state is projected: until then the reconciler must still find the job.
                await live.RemoveAsync(id, old, cancellationToken);
            }
            return new JobUpdate(stored, true);
        }
    }

    /// <summary>
    /// Writes the job's list rows for its current status and confirms them on the record (<see cref="Job.ListedAt"/>)
    /// under its ETag. A conflict means the record changed meanwhile; the rows are then rewritten from the fresh
    /// record and confirmed again, so the last confirmed projection is always of the latest record. A failed row
    /// write or confirm is treated alike (re-read, rewrite, confirm): rows written from a record that has since moved
    /// on must not be left behind — nothing else knows they are there. Returns the record as stored afterwards.
    /// </summary>
    public async Task<Job> ProjectAsync(Job job, DateTimeOffset? previousIndexedAt, CancellationToken cancellationToken)
    {
        var stale = new HashSet<DateTimeOffset?> { previousIndexedAt };
        for (var attempt = 1; ; attempt++)
        {
            stale.Add(job.ListedAt);
            try
            {
                await list.WriteAsync(job, stale, cancellationToken);
                stale.Add(job.IndexedAt);
                // Confirmed even when the record already says so: only a write under the ETag that was read proves
                // the rows just written are of the latest record (a heal racing a status change wrote stale rows).
                var confirmed = job with { ListedAt = job.IndexedAt };
                var response = await _table.UpdateEntityAsync(JobEntity.FromJob(confirmed), job.ETag, TableUpdateMode.Replace, cancellationToken);
                return confirmed with { ETag = response.Headers.ETag ?? default };
            }
            catch (RequestFailedException ex) when (attempt < MaxConflictRetries)
            {
                // Rows for this state may have been written (a fault after they were applied): clean them if it is stale.
                stale.Add(job.IndexedAt);
                LogProjectionRetry(job.Id, attempt, ex.Status);
                if (ex.Status != 412)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(20 * attempt), time, cancellationToken);
                }
                job = await TryGetAsync(job.Id, cancellationToken) ?? job;
            }
        }
    }

    private async Task<Job?> TryGetAsync(string id, CancellationToken cancellationToken)
    {
        try
        {
            return await GetAsync(id, cancellationToken);
        }
        catch (RequestFailedException)
        {
            return null; // the caller goes on with what it had and tries again
        }
    }

    /// <summary>
    /// Brings every projection of a record in line with it — list rows, and the live-job index (a row while live,
    /// none once ended) — whatever an earlier writer left behind. Idempotent; used by retries and the reconciler.
    /// </summary>
    public async Task<Job> HealAsync(Job job, CancellationToken cancellationToken)
    {
        LogHealing(job.Id, job.Status.ToWire());
        if (LiveJobIndex.IsLive(job))
        {
            await live.SyncAsync(job, cancellationToken);
        }
        var healed = await ProjectAsync(job, null, cancellationToken);
        if (!LiveJobIndex.IsLive(healed))
        {
            await live.SyncAsync(healed, cancellationToken);
        }
        return healed;
    }

    /// <summary>Deletes the record, its list rows, its live-job row and its idempotency claim; missing rows are fine (a retried purge).</summary>
    public async Task DeleteAsync(Job job, CancellationToken cancellationToken)
    {
        await list.DeleteAsync(job, cancellationToken);
        if (job.IdempotencyKey is { } key)
        {
            await _table.DeleteEntityAsync(TableKeys.IdempotencyPartition(job.Owner), TableKeys.IdempotencyRowKey(key), ETag.All, cancellationToken);
        }
        if (job.Deadline is { } deadline)
        {
            await live.RemoveAsync(job.Id, deadline, cancellationToken);
        }
        await _table.DeleteEntityAsync(job.Id, TableKeys.RecordRowKey, ETag.All, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Job {JobId} changed under us (attempt {Attempt}); re-reading.")]
    private partial void LogConflict(string jobId, int attempt);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Job {JobId}: projecting again (attempt {Attempt}, storage said {Status}).")]
    private partial void LogProjectionRetry(string jobId, int attempt, int status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} ({Status}): healing its list rows and live-job index.")]
    private partial void LogHealing(string jobId, string status);
}
