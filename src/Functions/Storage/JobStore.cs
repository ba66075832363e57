using Azure;
using Azure.Data.Tables;
using Jobs.Functions.Model;
using Microsoft.Extensions.Logging;

namespace Jobs.Functions.Storage;

/// <summary>The result of a conditional update: the job as stored afterwards, and whether this call changed it.</summary>
public sealed record JobUpdate(Job Job, bool Changed);

/// <summary>A record as read together with the status changes it still owes the rest of the system (its outbox rows).</summary>
public sealed record StoredJob(Job Job, IReadOnlyList<JobChange> Unsettled);

/// <summary>
/// Job records, the truth clients read — and the one way to change them (docs/storage.md, "The write path"). A change
/// is one entity-group transaction in the job's partition: the record under the ETag it was decided on, the log lines
/// that belong to it, and, for a status change, a <see cref="JobChange"/> row (the outbox) saying what it owes. Only
/// after that commits does <see cref="JobProjector"/> derive the rest — list rows, the live-job row, counts, the
/// ending's event — and a change it could not finish stays in the outbox for the next writer or the reconciler.
/// On a 412 the change is re-applied to the fresh record, never written blind.
/// </summary>
public sealed partial class JobStore(
    StorageClients clients, JobProjector projector, LiveJobIndex live, JobLogStore logs, JobRecordCache records, JobChangeFeed changes, TimeProvider time, ILogger<JobStore> logger)
{
    private const int MaxConflictRetries = 16;
    private readonly TableClient _table = clients.JobsTable;

    public DateTimeOffset Now => time.GetUtcNow();

    /// <summary>
    /// Inserts a new record (409 from storage if the id exists). A pending job is the one change projected before its
    /// record: its list rows go first, the all-jobs transaction with its live-job row leading, so a record that exists is
    /// always listed and watched, and a create that dies before its record leaves rows the reconciler removes (the
    /// live-job row says where). A draft is written as any change: record and change row, then projected.
    /// </summary>
    /// <remarks>
    /// <paramref name="with"/>: rows that are part of the creation, in the record's transaction — a resumed job's
    /// carried step output, the line that says where it came from, and the creation's audit entry.
    /// </remarks>
    public async Task<Job> CreateAsync(Job job, CancellationToken cancellationToken, JobWrite? with = null)
    {
        var stamp = new JobStamp(default, 1, job.CreatedAt);
        Job stored;
        IReadOnlyList<TableTransactionAction> extra =
        [
            .. (with?.ChangeLines ?? []).Select(line => JobLogStore.Upsert(job.Id, line)),
            .. with?.StepOutput is { } output ? [new TableTransactionAction(TableTransactionActionType.UpsertReplace, StepOutputs.ToEntity(job.Id, output))] : Array.Empty<TableTransactionAction>(),
            .. with?.Audit is { } audit ? [JobAuditLog.Upsert(job.Id, audit)] : Array.Empty<TableTransactionAction>(),
        ];
        if (LiveJobIndex.IsLive(job))
        {
            await projector.ApplyAsync(job, stamp, Expected.Nothing, cancellationToken);
            if (extra.Count == 0)
            {
                var response = await _table.AddEntityAsync(JobEntity.FromJob(job, stamp), cancellationToken);
                stored = JobStamp.Attach(job, stamp with { ETag = response.Headers.ETag ?? default });
            }
            else
            {
                var response = await _table.SubmitTransactionAsync([new TableTransactionAction(TableTransactionActionType.Add, JobEntity.FromJob(job, stamp)), .. extra], cancellationToken);
                stored = JobStamp.Attach(job, stamp with { ETag = response.Value[0].Headers.ETag ?? default });
            }
        }
        else
        {
            var response = await _table.SubmitTransactionAsync(
                [new TableTransactionAction(TableTransactionActionType.Add, JobEntity.FromJob(job, stamp)),
                 new TableTransactionAction(TableTransactionActionType.Add, new JobChange(1, null, job.Status, stamp.ChangedAt).ToEntity(job.Id)),
                 .. extra],
                cancellationToken);
            stored = JobStamp.Attach(job, stamp with { ETag = response.Value[0].Headers.ETag ?? default });
            if (await ProjectCommittedAsync(stored, Expected.Nothing, orchestrated: false, cancellationToken))
            {
                JobStamp.Attach(stored, JobStamp.Of(stored)! with { SettledChangeRow = 1 });
            }
        }
        records.Set(stored);
        changes.Publish(stored.Id, stored, []);
        return stored;
    }

    /// <summary>The record (one point read), or null.</summary>
    public async Task<Job?> GetAsync(string id, CancellationToken cancellationToken)
    {
        var response = await _table.GetEntityIfExistsAsync<JobEntity>(id, TableKeys.RecordRowKey, cancellationToken: cancellationToken);
        return response.HasValue ? response.Value!.ToJob() : null;
    }

    /// <summary>The record and its unsettled changes (one range read of the job's partition), or null.</summary>
    public async Task<StoredJob?> ReadAsync(string id, CancellationToken cancellationToken)
    {
        Job? job = null;
        var unsettled = new List<JobChange>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {id} and RowKey ge {TableKeys.RecordRowKey} and RowKey lt {JobChange.RangeEnd}");
        await foreach (var row in _table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            if (row.RowKey == TableKeys.RecordRowKey)
            {
                job = JobPartitionReader.As<JobEntity>(row).ToJob();
            }
            else
            {
                unsettled.Add(JobChange.FromEntity(row));
            }
        }
        return job is null ? null : new StoredJob(job, unsettled);
    }

    /// <summary>The output a step of the job returned, as kept for a resume (<see cref="StepOutputs"/>); null when none was kept.</summary>
    public async Task<KeptStepOutput?> ReadStepOutputAsync(string id, int stepIndex, CancellationToken cancellationToken)
    {
        var response = await _table.GetEntityIfExistsAsync<TableEntity>(id, StepOutputs.RowKey(stepIndex), cancellationToken: cancellationToken);
        return response.HasValue ? StepOutputs.FromEntity(response.Value!) : null;
    }

    /// <summary>
    /// The record as this process last wrote or read it for an activity, else as stored. It may be behind the store:
    /// use it only to decide what to write, under its ETag (<see cref="JobWrite.OrchestratedAt"/> writes do).
    /// </summary>
    public async Task<Job?> GetForWriteAsync(string id, CancellationToken cancellationToken)
    {
        if (records.Get(id) is { } cached)
        {
            return cached;
        }
        var job = await GetAsync(id, cancellationToken);
        if (job is not null)
        {
            records.Set(job);
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

    /// <summary>As above, starting from a record this store handed out (saves a read; re-reads only on a conflict).</summary>
    public Task<JobUpdate?> UpdateAsync(Job known, Func<Job, Job?> change, CancellationToken cancellationToken, JobWrite? write = null) =>
        UpdateCoreAsync(known.Id, known, change, write ?? JobWrite.None, cancellationToken);

    private async Task<JobUpdate?> UpdateCoreAsync(string id, Job? known, Func<Job, Job?> change, JobWrite write, CancellationToken cancellationToken)
    {
        // Callers other than activities pass a record they just read; activities pass their own last write, or nothing
        // and get the cache's — either may be behind the store, which only the ETag tells.
        var trusted = !write.Orchestrated;
        for (var attempt = 1; ; attempt++)
        {
            Job? current = null;
            IReadOnlyList<JobChange> unsettled = [];
            if (known is not null && JobStamp.Of(known) is not null)
            {
                current = known;
            }
            else if (attempt == 1 && write.Orchestrated && records.Get(id) is { } cached && JobStamp.Of(cached) is not null)
            {
                current = cached;
            }
            known = null;
            if (current is null)
            {
                var read = await ReadAsync(id, cancellationToken);
                if (read is null)
                {
                    records.Remove(id);
                    return null;
                }
                (current, unsettled, trusted) = (read.Job, read.Unsettled, true);
            }
            var stamp = JobStamp.Of(current)!;
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
                return new JobUpdate(await SettleUnchangedAsync(new StoredJob(current, unsettled), write, cancellationToken), false);
            }
            trusted = true;
            var now = Now;
            var statusChanged = next.Status != current.Status;
            // A change the list rows show — the status, or a draft's edited correlation id — is numbered and projected;
            // only a change of status moves the "updated" rows (their time is the last status change's).
            var listed = statusChanged || next.CorrelationId != current.CorrelationId;
            var nextStamp = !listed ? stamp with { SettledChangeRow = null }
                : new JobStamp(default, stamp.Seq + 1, statusChanged ? write.OrchestratedAt ?? now : stamp.ChangedAt);
            next = next with { UpdatedAt = now };
            var outbox = new List<TableTransactionAction>();
            if (stamp.SettledChangeRow is { } settled && unsettled.All(c => c.Seq != settled))
            {
                // An outbox row whose work this process finished: removed by this write, at no request of its own.
                outbox.Add(new(TableTransactionActionType.Delete, new TableEntity(id, JobChange.RowKey(settled)), ETag.All));
            }
            if (listed)
            {
                outbox.Add(new(TableTransactionActionType.Add, new JobChange(nextStamp.Seq, current.Status, next.Status, nextStamp.ChangedAt).ToEntity(id)));
                // The changes this one supersedes: projecting it brings every partition to its state, so theirs are owed no more.
                outbox.AddRange(unsettled.Select(c => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(id, JobChange.RowKey(c.Seq)), ETag.All)));
            }
            if (statusChanged && LiveJobIndex.IsLive(next) && !LiveJobIndex.IsLive(current) && next.Deadline is { } deadline)
            {
                // A job becoming live (a draft submitted) is watched before it is: as with a creation, a crash between
                // the record and its projection must leave a live-job row that leads the reconciler to it.
                await live.WatchAsync(next, deadline, stamp.Seq, cancellationToken);
            }
            if (write.StepOutput is { } output)
            {
                outbox.Add(new(TableTransactionActionType.UpsertReplace, StepOutputs.ToEntity(id, output)));
            }
            if (write.Audit is { } audit)
            {
                // Who asked for this change rides in its transaction: no change, no entry; no entry, no change.
                outbox.Add(JobAuditLog.Upsert(id, audit));
            }
            Job stored;
            try
            {
                stored = await WriteRecordAsync(next, stamp.ETag, nextStamp, [.. write.Lines, .. write.ChangeLines], outbox, cancellationToken);
            }
            catch (TableTransactionFailedException ex) when (attempt < MaxConflictRetries && ex.Status is 404 or 412)
            {
                // Changed under us (412), or deleted, or an outbox row it removes was settled meanwhile (404): read and
                // decide again (the read says which: no record is a job deleted under us, by retention or a purge).
                LogConflict(id, attempt, ex.Status);
                continue;
            }
            if (!statusChanged && next.Progress != current.Progress)
            {
                projector.Progressed(stored);
            }
            if (listed || unsettled.Count > 0)
            {
                var expected = listed && unsettled.Count == 0
                    ? Expected.Shows(new ProjectedState(stamp.Seq, current.Status, stamp.ChangedAt, current.CreatedAt))
                    : Expected.Unknown;
                if (await ProjectCommittedAsync(stored, expected, write.Orchestrated, cancellationToken) && listed)
                {
                    JobStamp.Attach(stored, JobStamp.Of(stored)! with { SettledChangeRow = nextStamp.Seq });
                }
            }
            return new JobUpdate(stored, true);
        }
    }

    /// <summary>
    /// Nothing to change — but lines that happened are written, and changes an earlier writer left unsettled are
    /// projected (a retried call after a fault lands here).
    /// </summary>
    private async Task<Job> SettleUnchangedAsync(StoredJob current, JobWrite write, CancellationToken cancellationToken)
    {
        if (write.Lines.Count > 0)
        {
            await logs.WriteAsync(current.Job.Id, write.Lines, cancellationToken);
        }
        if (current.Unsettled.Count > 0)
        {
            await SettleAsync(current, cancellationToken, orchestrated: write.Orchestrated);
        }
        records.Set(current.Job);
        return current.Job;
    }

    /// <summary>
    /// Finishes what <paramref name="stored"/>'s unsettled changes owe — its projection, reading what each partition
    /// shows — and then removes their outbox rows. Idempotent; used by retries, repeats and the reconciler.
    /// </summary>
    /// <remarks><paramref name="force"/> projects even with no outbox row (the reconciler, for an ended job still watched).</remarks>
    public async Task SettleAsync(StoredJob stored, CancellationToken cancellationToken, bool orchestrated = true, bool force = false)
    {
        if (stored.Unsettled.Count == 0 && !force)
        {
            return;
        }
        LogSettling(stored.Job.Id, stored.Job.Status.ToWire(), stored.Unsettled.Count);
        if (!await ProjectCommittedAsync(stored.Job, Expected.Unknown, orchestrated, cancellationToken))
        {
            return;
        }
        if (!LiveJobIndex.IsLive(stored.Job))
        {
            // A job that is not live may be watched only because a change of it was left unsettled: that is done now.
            await live.RemoveAsync(stored.Job.Id, WatchDeadline(stored.Job), cancellationToken);
        }
        if (stored.Unsettled.Count == 0)
        {
            return;
        }
        try
        {
            // One transaction; a row already removed (settled by another writer meanwhile) fails it, which is fine.
            await _table.SubmitTransactionAsync(stored.Unsettled.Select(c =>
                new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(stored.Job.Id, JobChange.RowKey(c.Seq)), ETag.All)), cancellationToken);
        }
        catch (TableTransactionFailedException ex) when (ex.Status is 404 or 412)
        {
            // Settled by another writer meanwhile.
        }
    }

    /// <summary>
    /// Projects a committed record. For an activity a failure is thrown, so the orchestration retries it (and the retry
    /// settles the change); for any other writer the change stands, and its outbox row is left for the reconciler or the
    /// next write. Returns false when it was left.
    /// </summary>
    private async Task<bool> ProjectCommittedAsync(Job stored, Expected expected, bool orchestrated, CancellationToken cancellationToken)
    {
        try
        {
            await projector.ApplyAsync(stored, JobStamp.Of(stored)!, expected, cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (!orchestrated)
        {
            LogProjectionLeft(ex, stored.Id);
            if (!LiveJobIndex.IsLive(stored))
            {
                await WatchUnsettledAsync(stored, cancellationToken);
            }
            return false;
        }
    }

    /// <summary>
    /// A job that is not live (a draft, or one that ended) has no live-job row, so the reconciler would never visit a
    /// change of it left unsettled: a row is written for it (by its deadline, or its creation time for a draft), which the
    /// reconciler — or the next write that settles the change — removes. Best effort: storage that refused the projection may refuse this too, and then the job's next
    /// status change settles it.
    /// </summary>
    private async Task WatchUnsettledAsync(Job job, CancellationToken cancellationToken)
    {
        try
        {
            await live.WatchAsync(job, WatchDeadline(job), JobStamp.Of(job)!.Seq - 1, cancellationToken);
        }
        catch (RequestFailedException ex)
        {
            LogWatchFailed(ex, job.Id);
        }
    }

    /// <summary>The key time of the row that watches a job that is not live: its deadline, or a draft's creation time.</summary>
    private static DateTimeOffset WatchDeadline(Job job) => job.Deadline ?? job.CreatedAt;

    /// <summary>Writes the record under <paramref name="etag"/> with the lines and outbox rows, as one transaction (lines beyond one transaction's room go first).</summary>
    private async Task<Job> WriteRecordAsync(Job next, ETag etag, JobStamp stamp, IReadOnlyList<JobLogLine> lines, IReadOnlyList<TableTransactionAction> outbox, CancellationToken cancellationToken)
    {
        // A line is its key: one handed over twice (carried and also flushed) is one line, and a transaction may not
        // name a row twice (the service refuses the whole transaction, and a retry would refuse it again).
        lines = JobLogStore.Distinct(lines);
        var room = JobLogStore.MaxBatch - 1 - outbox.Count;
        if (lines.Count > room)
        {
            await logs.WriteAsync(next.Id, lines.Take(lines.Count - room).ToList(), cancellationToken);
            lines = lines.Skip(lines.Count - room).ToList();
        }
        var record = new TableTransactionAction(TableTransactionActionType.UpdateReplace, JobEntity.FromJob(next, stamp), etag);
        var response = await _table.SubmitTransactionAsync([record, .. lines.Select(line => JobLogStore.Upsert(next.Id, line)), .. outbox], cancellationToken);
        var stored = JobStamp.Attach(next, stamp with { ETag = response.Value[0].Headers.ETag ?? default });
        records.Set(stored);
        changes.Publish(stored.Id, stored, lines);
        return stored;
    }

    /// <summary>
    /// Deletes the job: its rows in every list partition (with their counts), its idempotency claim, its outbox rows,
    /// its kept step outputs, its audit trail, its count of raised events (<see cref="JobEventInbox"/>) and its record; missing rows are fine (a retried purge). Log lines are <see cref="JobLogStore.DeleteAllAsync"/>'s.
    /// </summary>
    public async Task DeleteAsync(Job job, CancellationToken cancellationToken)
    {
        await projector.RemoveAsync(job, cancellationToken);
        if (job.IdempotencyKey is { } key)
        {
            await DeleteIfExistsAsync(TableKeys.IdempotencyPartition(job.Owner), TableKeys.IdempotencyRowKey(key), cancellationToken);
        }
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {job.Id} and ((RowKey ge {JobChange.RowKeyPrefix} and RowKey lt {JobChange.RangeEnd}) or (RowKey ge {StepOutputs.RowKeyPrefix} and RowKey lt {StepOutputs.RangeEnd}) or (RowKey ge {JobAuditLog.RowKeyPrefix} and RowKey lt {JobAuditLog.RowKeyEnd}))");
        await foreach (var row in _table.QueryAsync<TableEntity>(filter, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
        {
            await DeleteIfExistsAsync(row.PartitionKey, row.RowKey, cancellationToken);
        }
        await DeleteIfExistsAsync(job.Id, JobEventInbox.RowKey, cancellationToken);
        await DeleteIfExistsAsync(job.Id, TableKeys.RecordRowKey, cancellationToken);
        records.Remove(job.Id);
    }

    private async Task DeleteIfExistsAsync(string partition, string rowKey, CancellationToken cancellationToken)
    {
        try
        {
            await _table.DeleteEntityAsync(partition, rowKey, ETag.All, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // Already gone: the goal.
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Job {JobId} changed under us (attempt {Attempt}, storage said {Status}); re-reading.")]
    private partial void LogConflict(string jobId, int attempt, int status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: the change is recorded, but projecting it failed; its outbox row stays for the reconciler or the next write.")]
    private partial void LogProjectionLeft(Exception exception, string jobId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: its unsettled change could not be put in the live-job index either; its next status change settles it.")]
    private partial void LogWatchFailed(Exception exception, string jobId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} ({Status}): settling {Count} unsettled change(s).")]
    private partial void LogSettling(string jobId, string status, int count);
}
