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
public sealed partial class JobStore(
    StorageClients clients, JobListIndex list, LiveJobIndex live, JobLogStore logs, JobRecordCache records, JobChangeFeed changes, TimeProvider time, ILogger<JobStore> logger)
{
    private const int MaxConflictRetries = 16;
    private readonly TableClient _table = clients.JobsTable;
    private readonly JobRecordCache _records = records;

    public DateTimeOffset Now => time.GetUtcNow();

    /// <summary>
    /// Inserts a new record (409 from storage if the id exists). A pending job's list rows are written first, with its
    /// live-job row in the all-jobs transaction, so a record that exists is always listed and can always be found by
    /// the reconciler, and one that never comes leaves rows the reconciler removes (the live-job row says where).
    /// A draft is not live: its rows follow the record (<see cref="ProjectAsync"/>).
    /// </summary>
    public async Task<Job> CreateAsync(Job job, CancellationToken cancellationToken)
    {
        job = job with { IndexedAt = job.CreatedAt, ListedAt = null };
        if (LiveJobIndex.IsLive(job) && job.Deadline is { } deadline)
        {
            await list.WriteAsync(job, [], cancellationToken,
                new TableTransactionAction(TableTransactionActionType.UpsertReplace, LiveJobIndex.Row(job, deadline)));
            job = job with { ListedAt = job.IndexedAt };
        }
        var response = await _table.AddEntityAsync(JobEntity.FromJob(job), cancellationToken);
        var stored = job with { ETag = response.Headers.ETag ?? default };
        _records.Set(stored);
        changes.Publish(stored.Id, stored, []);
        return stored;
    }

    public async Task<Job?> GetAsync(string id, CancellationToken cancellationToken)
    {
        var response = await _table.GetEntityIfExistsAsync<JobEntity>(id, TableKeys.RecordRowKey, cancellationToken: cancellationToken);
        return response.HasValue ? response.Value!.ToJob() : null;
    }

    /// <summary>
    /// The record as this process last wrote or read it for an activity, else as stored. It may be behind the store:
    /// use it only to decide what to write, under its ETag (<see cref="JobWrite.OrchestratedAt"/> writes do).
    /// </summary>
    public async Task<Job?> GetForWriteAsync(string id, CancellationToken cancellationToken)
    {
        if (_records.Get(id) is { } cached)
        {
            return cached;
        }
        var job = await GetAsync(id, cancellationToken);
        if (job is not null)
        {
            _records.Set(job);
        }
        return job;
    }

    /// <summary>
    /// Applies <paramref name="change"/> to the current record and writes it under its ETag, with the log lines of
    /// <paramref name="write"/> in the same transaction. The change returns null to leave the record alone.
    /// Returns null when the job does not exist.
    /// </summary>
    public Task<JobUpdate?> UpdateAsync(string id, Func<Job, Job?> change, CancellationToken cancellationToken, JobWrite? write = null) =>
        UpdateCoreAsync(id, null, change, write ?? JobWrite.None, cancellationToken);

    /// <summary>As above, starting from a record just read (saves a read; re-reads only on a conflict).</summary>
    public Task<JobUpdate?> UpdateAsync(Job known, Func<Job, Job?> change, CancellationToken cancellationToken, JobWrite? write = null) =>
        UpdateCoreAsync(known.Id, known, change, write ?? JobWrite.None, cancellationToken);

    private async Task<JobUpdate?> UpdateCoreAsync(string id, Job? known, Func<Job, Job?> change, JobWrite write, CancellationToken cancellationToken)
    {
        // Rows written before a record change that then did not land (its ETag was stale): whatever is written
        // next must remove their "updated" rows, which nothing else knows of.
        var strayRowTimes = new List<DateTimeOffset?>();
        // Callers other than activities pass a record they just read; activities pass their own last write, or
        // nothing and get the cache's — either may be behind the store, which only the ETag tells.
        var trusted = !write.Orchestrated;
        for (var attempt = 1; ; attempt++)
        {
            Job? current;
            if (known is not null)
            {
                current = known;
                known = null;
            }
            else if (attempt == 1 && write.Orchestrated && _records.Get(id) is { } cached)
            {
                current = cached;
            }
            else
            {
                current = await GetAsync(id, cancellationToken);
                trusted = true;
            }
            if (current is null)
            {
                _records.Remove(id);
                return null;
            }
            var next = change(current);
            if (next is null || next == current)
            {
                if (!trusted)
                {
                    // Decided on a record we had not read just now (the cache, or the caller's copy): a refusal must
                    // rest on the stored record, so read it and decide again.
                    trusted = true;
                    continue;
                }
                return new JobUpdate(await SettleUnchangedAsync(current, write, strayRowTimes, cancellationToken), false);
            }
            trusted = true;
            var now = Now;
            var statusChanged = next.Status != current.Status;
            var changedAt = statusChanged ? write.OrchestratedAt ?? now : current.IndexedAt;
            next = next with { UpdatedAt = now, IndexedAt = changedAt };
            if (statusChanged)
            {
                // What the counters move this job from: the status its last confirmed projection listed. A change that
                // was never confirmed is superseded by this one (its count row goes; see JobCounters).
                next = current.ListingPending
                    ? next with { PriorListedAt = current.PriorListedAt, PriorListedStatus = current.PriorListedStatus }
                    : next with { PriorListedAt = current.IndexedAt, PriorListedStatus = current.Status };
            }
            var projection = !statusChanged ? Projection.None
                : !write.Orchestrated || current.ListingPending ? Projection.RecordThenRowsThenConfirm
                : next.Status.IsTerminal() ? Projection.RecordThenRows
                : Projection.RowsThenRecord;
            var liveDeadline = LiveJobIndex.IsLive(next) ? next.Deadline : null;
            var wasLiveDeadline = LiveJobIndex.IsLive(current) ? current.Deadline : null;
            var liveAdded = liveDeadline is { } deadline && deadline != wasLiveDeadline ? LiveJobIndex.Row(next, deadline) : null;
            var stale = new List<DateTimeOffset?>(strayRowTimes) { current.IndexedAt, current.ListedAt, current.PreviousIndexedAt };
            switch (projection)
            {
                case Projection.RowsThenRecord:
                    // Rows first, at the orchestration's time (a retry writes the same keys); the record then says
                    // they are listed. Only a retried activity writes this, so a failure in between is finished by the retry.
                    await list.WriteAsync(next, stale, cancellationToken, liveAdded is null ? null : new TableTransactionAction(TableTransactionActionType.UpsertReplace, liveAdded));
                    strayRowTimes.Add(changedAt);
                    next = next with { ListedAt = changedAt };
                    break;
                case Projection.RecordThenRows:
                    // The live-job row stays until the rows are written after the record: it is this ending's confirmation.
                    next = next with { ListedAt = changedAt, PreviousIndexedAt = current.IndexedAt };
                    break;
                default:
                    if (liveAdded is not null)
                    {
                        await live.AddAsync(next, liveDeadline!.Value, cancellationToken);
                    }
                    break;
            }
            Job stored;
            try
            {
                stored = await WriteRecordAsync(next, current.ETag, [.. write.Lines, .. write.ChangeLines], cancellationToken);
            }
            catch (RequestFailedException ex) when (ex.Status == 412 && attempt < MaxConflictRetries)
            {
                LogConflict(id, attempt);
                continue;
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                _records.Remove(id);
                return null; // deleted under us (retention, or a purge out of band)
            }
            strayRowTimes.Clear();
            switch (projection)
            {
                case Projection.RecordThenRowsThenConfirm:
                    stored = await ProjectAsync(stored, stale, cancellationToken);
                    break;
                case Projection.RecordThenRows:
                    await FinishEndingProjectionAsync(stored, cancellationToken);
                    break;
            }
            if (projection != Projection.RecordThenRows && wasLiveDeadline is { } old && old != liveDeadline)
            {
                // Removed only once the new state is projected: until then the reconciler must still find the job.
                await live.RemoveAsync(id, old, cancellationToken);
            }
            return new JobUpdate(stored, true);
        }
    }

    /// <summary>How a status change reaches the list rows.</summary>
    private enum Projection
    {
        /// <summary>No status change: list rows do not show progress.</summary>
        None,

        /// <summary>Record, rows, then <see cref="Job.ListedAt"/> confirmed under the ETag: any writer.</summary>
        RecordThenRowsThenConfirm,

        /// <summary>Rows at the orchestration's time, then the record saying they are listed: an activity's live change.</summary>
        RowsThenRecord,

        /// <summary>Record, then rows with the live-job row removed last: an activity's ending.</summary>
        RecordThenRows,
    }

    /// <summary>
    /// Nothing to change — but lines that happened are written, rows a lost attempt wrote are cleaned, and an earlier
    /// writer's unfinished projection is finished (a retried call after a fault lands here).
    /// </summary>
    private async Task<Job> SettleUnchangedAsync(Job current, JobWrite write, List<DateTimeOffset?> strayRowTimes, CancellationToken cancellationToken)
    {
        if (write.Lines.Count > 0)
        {
            await logs.WriteAsync(current.Id, write.Lines, cancellationToken);
        }
        if (strayRowTimes.Count > 0 || current.ListingPending)
        {
            return await HealAsync(current, cancellationToken, strayRowTimes);
        }
        if (write.Orchestrated && current.Status.IsTerminal())
        {
            // An activity's ending whose rows may not have been written (this is its retry): finish them. Idempotent.
            await FinishEndingProjectionAsync(current, cancellationToken);
        }
        _records.Set(current);
        return current;
    }

    /// <summary>The rows of an ended job written after its record, and its live-job row removed with the last of them.</summary>
    private Task FinishEndingProjectionAsync(Job ended, CancellationToken cancellationToken) =>
        list.WriteAsync(ended, [ended.PreviousIndexedAt, ended.ListedAt], cancellationToken,
            ended.Deadline is { } deadline ? new TableTransactionAction(TableTransactionActionType.Delete, LiveJobIndex.Row(ended, deadline), ETag.All) : null);

    /// <summary>Writes the record under <paramref name="etag"/> and the lines with it, as one transaction (lines beyond one transaction's room go first).</summary>
    private async Task<Job> WriteRecordAsync(Job next, ETag etag, IReadOnlyList<JobLogLine> lines, CancellationToken cancellationToken)
    {
        // A line is its key: one handed over twice (carried and also flushed) is one line, and a transaction may not
        // name a row twice (the service refuses the whole transaction, and a retry would refuse it again).
        lines = JobLogStore.Distinct(lines);
        var room = JobLogStore.MaxBatch - 1;
        if (lines.Count > room)
        {
            await logs.WriteAsync(next.Id, lines.Take(lines.Count - room).ToList(), cancellationToken);
            lines = lines.Skip(lines.Count - room).ToList();
        }
        var record = new TableTransactionAction(TableTransactionActionType.UpdateReplace, JobEntity.FromJob(next), etag);
        var response = await _table.SubmitTransactionAsync([record, .. lines.Select(line => JobLogStore.Upsert(next.Id, line))], cancellationToken);
        var stored = next with { ETag = response.Value[0].Headers.ETag ?? default };
        _records.Set(stored);
        changes.Publish(stored.Id, stored, lines);
        return stored;
    }

    /// <summary>
    /// Writes the job's list rows for its current status and confirms them on the record (<see cref="Job.ListedAt"/>)
    /// under its ETag. A conflict means the record changed meanwhile; the rows are then rewritten from the fresh
    /// record and confirmed again, so the last confirmed projection is always of the latest record. A failed row
    /// write or confirm is treated alike (re-read, rewrite, confirm): rows written from a record that has since moved
    /// on must not be left behind — nothing else knows they are there. Returns the record as stored afterwards.
    /// </summary>
    public async Task<Job> ProjectAsync(Job job, IEnumerable<DateTimeOffset?> staleTimes, CancellationToken cancellationToken)
    {
        var stale = new HashSet<DateTimeOffset?>(staleTimes) { job.PreviousIndexedAt };
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
                var stored = confirmed with { ETag = response.Headers.ETag ?? default };
                _records.Set(stored);
                return stored;
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
    public async Task<Job> HealAsync(Job job, CancellationToken cancellationToken, IEnumerable<DateTimeOffset?>? staleTimes = null)
    {
        LogHealing(job.Id, job.Status.ToWire());
        if (LiveJobIndex.IsLive(job))
        {
            await live.SyncAsync(job, cancellationToken);
        }
        var healed = await ProjectAsync(job, staleTimes ?? [], cancellationToken);
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
        _records.Remove(job.Id);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Job {JobId} changed under us (attempt {Attempt}); re-reading.")]
    private partial void LogConflict(string jobId, int attempt);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Job {JobId}: projecting again (attempt {Attempt}, storage said {Status}).")]
    private partial void LogProjectionRetry(string jobId, int attempt, int status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} ({Status}): healing its list rows and live-job index.")]
    private partial void LogHealing(string jobId, string status);
}
