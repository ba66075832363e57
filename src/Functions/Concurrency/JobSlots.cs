using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Jobs.Functions.Handlers;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;

namespace Jobs.Functions.Concurrency;

/// <summary>What admitting a job decided: whether it starts now, whether its type is paused, and other waiters granted on the way.</summary>
public sealed record SlotAdmission(bool Granted, bool Paused, IReadOnlyList<string> Woken);

/// <summary>A type's slot row as read: paused or not, the jobs holding slots, and how many wait.</summary>
public sealed record SlotState(bool Paused, IReadOnlyList<SlotHolder> Holders, int Waiting);

/// <summary>
/// A job type's running slots and its queue, in storage (docs/storage.md, <c>slots-</c> rows). One partition per type,
/// <c>slots-{type}</c>: the slot row (<see cref="GateRowKey"/>: paused, the holders as JSON, the number waiting) and one
/// row per waiting job (<c>q-{9 − priority}-{creation ticks}-{id}</c>, so a range read returns the queue in start
/// order). Every change is one entity-group transaction in that partition with the slot row under its ETag: two
/// instances deciding at once both read the same holders, and only one write lands; the other re-reads and decides
/// again — so a limit is never exceeded, and a waiting row and its grant never disagree. The rules are
/// <see cref="SlotGate"/>'s. Granted jobs' orchestrations are woken with <see cref="GrantedEvent"/>; the reconciler
/// re-sends one that was lost and frees slots of jobs that ended without giving theirs back (<see cref="RecoverAsync"/>).
/// </summary>
/// <remarks>
/// The registry comes lazily: some handlers (the bulk action) end jobs, and ending a job gives its slot back here.
/// </remarks>
public sealed partial class JobSlots(StorageClients clients, Lazy<JobHandlerRegistry> registry, TimeProvider time, ILogger<JobSlots> logger)
{
    /// <summary>
    /// How long an instance trusts a type's pause flag as last read (<see cref="IsPausedAsync"/>): a pause reaches the first
    /// steps of jobs of a type without limits on every instance within this time — at once on the instance that paused.
    /// </summary>
    public static readonly TimeSpan PauseFlagLifetime = TimeSpan.FromSeconds(5);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (bool Paused, long ReadAt)> _pauseFlags = new(StringComparer.Ordinal);

    /// <summary>The external event that tells a queued job's orchestration it holds a slot.</summary>
    public const string GrantedEvent = "jobs.slot-granted";

    public const string GateRowKey = "gate";
    private const string WaitPrefix = "q-";
    private const string WaitEnd = "q.";
    private const int MaxConflictRetries = 32;

    /// <summary>Waiting rows one grant reads: the head of the queue, in start order.</summary>
    internal const int MaxQueueRead = 1_000;

    /// <summary>Grants per transaction: the slot row and one waiting row removed per grant fit one entity-group transaction (100).</summary>
    private const int MaxGrantsPerWrite = 98;

    private readonly TableClient _table = clients.JobsTable;

    private JobHandlerRegistry Handlers => registry.Value;

    public static string Partition(string type) => "slots-" + TableKeys.Encode(type);

    /// <summary>A waiting job's row key: priority (9 first), then creation, then id — the start order.</summary>
    public static string WaitRowKey(Job job) =>
        string.Create(CultureInfo.InvariantCulture, $"{WaitPrefix}{9 - Math.Clamp(job.Priority, 0, 9)}-{job.CreatedAt.UtcTicks:D19}-{job.Id}");

    /// <summary>The type's declared limits.</summary>
    public JobConcurrency LimitsOf(string type) => Handlers.TryGet(type, out var handler) ? handler.Concurrency : JobConcurrency.Unlimited;

    /// <summary>
    /// Decides whether <paramref name="job"/> may start: it takes a slot when its type is not paused, the limits leave
    /// room and no waiter of its key is ahead of it; otherwise it joins the queue. Idempotent: a job already holding a
    /// slot is granted, one already waiting stays where it is. A type without limits and not paused costs one point read
    /// (its jobs come here only once their first step found the type paused: <see cref="IsPausedAsync"/>).
    /// </summary>
    public async Task<SlotAdmission> AdmitAsync(Job job, CancellationToken cancellationToken)
    {
        var limits = LimitsOf(job.Type);
        var self = ToWaiter(job);
        for (var attempt = 1; ; attempt++)
        {
            var gate = await ReadGateAsync(job.Type, cancellationToken);
            var holders = Holders(gate);
            if (holders.Any(h => h.JobId == job.Id))
            {
                return new SlotAdmission(true, IsPaused(gate), []);
            }
            var queue = await ReadQueueAsync(job.Type, gate, cancellationToken);
            // Beyond the head of a long queue its own row is looked up (a retried admission must not add it twice).
            var waiting = queue.Any(w => w.JobId == job.Id)
                || (queue.Count >= MaxQueueRead && (await _table.GetEntityIfExistsAsync<TableEntity>(Partition(job.Type), WaitRowKey(job), ["RowKey"], cancellationToken)).HasValue);
            if (!limits.IsLimited && !IsPaused(gate) && !waiting)
            {
                return new SlotAdmission(true, false, []);
            }
            IReadOnlyList<SlotWaiter> candidates = waiting ? queue : [.. queue, self];
            var granted = SlotGate.Grant(holders, candidates, limits, IsPaused(gate), MaxGrantsPerWrite);
            var selfGranted = granted.Any(w => w.JobId == job.Id);
            if (!selfGranted && waiting && granted.Count == 0)
            {
                return new SlotAdmission(false, IsPaused(gate), []);
            }
            var actions = new List<TableTransactionAction>();
            if (!selfGranted && !waiting)
            {
                actions.Add(new(TableTransactionActionType.Add, WaitRow(job.Type, self)));
            }
            var waitingAfter = Waiting(gate) + (!selfGranted && !waiting ? 1 : 0) - granted.Count(w => w.JobId != job.Id || waiting);
            if (await TryWriteAsync(job.Type, gate, [.. holders, .. limits.IsLimited ? granted.Select(AsHolder) : []], waitingAfter,
                    [.. actions, .. granted.Where(w => w.JobId != job.Id || waiting).Select(w => DeleteWait(job.Type, w))], attempt, cancellationToken))
            {
                return new SlotAdmission(selfGranted, IsPaused(gate), [.. granted.Where(w => w.JobId != job.Id).Select(w => w.JobId)]);
            }
        }
    }

    /// <summary>
    /// Gives back what <paramref name="job"/> (which has ended) holds: its slot, which the next waiters in start order
    /// then take (returned, to be woken), or its place in the queue, which starts nothing (a cancelled queued job lets no
    /// one in out of turn). Idempotent; costs one point read when the job holds nothing.
    /// </summary>
    public async Task<IReadOnlyList<string>> ReleaseAsync(Job job, CancellationToken cancellationToken)
    {
        var limits = LimitsOf(job.Type);
        for (var attempt = 1; ; attempt++)
        {
            var gate = await ReadGateAsync(job.Type, cancellationToken);
            if (gate.ETag == default)
            {
                return [];
            }
            var holders = Holders(gate);
            var held = holders.Any(h => h.JobId == job.Id);
            var queue = Waiting(gate) > 0 ? await ReadQueueAsync(job.Type, gate, cancellationToken) : [];
            var waiting = queue.Any(w => w.JobId == job.Id);
            if (!held && !waiting)
            {
                return [];
            }
            var left = holders.Where(h => h.JobId != job.Id).ToList();
            var rest = queue.Where(w => w.JobId != job.Id).ToList();
            var granted = held ? SlotGate.Grant(left, rest, limits, IsPaused(gate), MaxGrantsPerWrite) : [];
            var deletes = granted.Select(w => DeleteWait(job.Type, w)).ToList();
            if (waiting)
            {
                deletes.Add(DeleteWait(job.Type, queue.First(w => w.JobId == job.Id)));
            }
            if (await TryWriteAsync(job.Type, gate, [.. left, .. limits.IsLimited ? granted.Select(AsHolder) : []], Waiting(gate) - deletes.Count, deletes,
                    attempt, cancellationToken))
            {
                return [.. granted.Select(w => w.JobId)];
            }
        }
    }

    /// <summary>
    /// Pauses or resumes a type. A paused type admits no job (they wait <c>queued</c>); its running jobs finish. Resuming
    /// grants the waiters that fit, in start order, and returns them to be woken.
    /// </summary>
    public async Task<IReadOnlyList<string>> SetPausedAsync(string type, bool paused, CancellationToken cancellationToken)
    {
        var woken = await GrantAsync(type, paused, cancellationToken);
        _pauseFlags[type] = (paused, time.GetTimestamp()); // this instance knows at once
        return woken;
    }

    /// <summary>
    /// Grants the waiters that fit, in start order, after setting the type's pause when <paramref name="pause"/> is given
    /// (null: as it is). Returns the granted jobs, to be woken.
    /// </summary>
    private async Task<IReadOnlyList<string>> GrantAsync(string type, bool? pause, CancellationToken cancellationToken)
    {
        var woken = new List<string>();
        for (var attempt = 1; ; attempt++)
        {
            var gate = await ReadGateAsync(type, cancellationToken);
            var paused = pause ?? IsPaused(gate);
            var holders = Holders(gate);
            var queue = !paused && Waiting(gate) > 0 ? await ReadQueueAsync(type, gate, cancellationToken) : [];
            var granted = SlotGate.Grant(holders, queue, LimitsOf(type), paused, MaxGrantsPerWrite);
            if (granted.Count == 0 && (gate.ETag == default ? !paused : IsPaused(gate) == paused))
            {
                return woken;
            }
            gate["Paused"] = paused;
            if (await TryWriteAsync(type, gate, [.. holders, .. LimitsOf(type).IsLimited ? granted.Select(AsHolder) : []], Waiting(gate) - granted.Count,
                    [.. granted.Select(w => DeleteWait(type, w))], attempt, cancellationToken))
            {
                woken.AddRange(granted.Select(w => w.JobId));
                if (granted.Count < MaxGrantsPerWrite)
                {
                    return woken;
                }
                attempt = 0; // a long queue of an unlimited type: grant the next batch
            }
        }
    }

    /// <summary>The type's slot row: paused, holders, how many wait (one point read).</summary>
    public async Task<SlotState> ReadAsync(string type, CancellationToken cancellationToken)
    {
        var gate = await ReadGateAsync(type, cancellationToken);
        return new SlotState(IsPaused(gate), Holders(gate), Waiting(gate));
    }

    /// <summary>
    /// True when the type is paused — the admission of a type without limits (its job's first step), which needs nothing
    /// else of the slots. One point read of its slot row at most every <see cref="PauseFlagLifetime"/> per type and
    /// instance, not one per job: a pause takes effect on the other instances within that time (a job whose first step
    /// starts inside it runs, as one admitted just before the pause does). A stale "paused" costs nothing wrong: the job
    /// goes to <see cref="AdmitAsync"/>, which reads the slot row itself.
    /// </summary>
    public async Task<bool> IsPausedAsync(string type, CancellationToken cancellationToken)
    {
        var now = time.GetTimestamp();
        if (_pauseFlags.TryGetValue(type, out var known) && time.GetElapsedTime(known.ReadAt, now) < PauseFlagLifetime)
        {
            return known.Paused;
        }
        var gate = await _table.GetEntityIfExistsAsync<TableEntity>(Partition(type), GateRowKey, ["Paused"], cancellationToken);
        var paused = gate.HasValue && IsPaused(gate.Value!);
        _pauseFlags[type] = (paused, now);
        return paused;
    }

    /// <summary>
    /// A queued job's place in line (<see cref="SlotGate.Position"/>): one range read of the queue up to the job's own
    /// row (the rows ahead of it, at most <see cref="MaxQueueRead"/> × 10). Null when it is not waiting.
    /// </summary>
    public async Task<int?> PositionAsync(Job job, CancellationToken cancellationToken)
    {
        var own = WaitRowKey(job);
        var limits = LimitsOf(job.Type);
        var key = SlotGate.KeyOf(job.ConcurrencyKey);
        var filter = limits.MaxPerKey is null
            ? TableClient.CreateQueryFilter($"PartitionKey eq {Partition(job.Type)} and RowKey ge {WaitPrefix} and RowKey le {own}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {Partition(job.Type)} and RowKey ge {WaitPrefix} and RowKey le {own} and Key eq {key}");
        var ahead = 0;
        var found = false;
        await foreach (var row in _table.QueryAsync<TableEntity>(filter, maxPerPage: MaxQueueRead, select: ["RowKey"], cancellationToken: cancellationToken))
        {
            if (row.RowKey == own)
            {
                found = true;
                break;
            }
            if (++ahead >= MaxQueueRead * 10)
            {
                break;
            }
        }
        return found ? ahead + 1 : null;
    }

    /// <summary>
    /// The places in line of several queued jobs of one type (a list page's, <see cref="SlotGate.Position"/>): one range
    /// read of the head of the type's queue — a single request of at most <see cref="MaxQueueRead"/> rows, in start
    /// order, no continuation followed — with no read of the slot row. A job not among those rows (further back in a
    /// longer queue, or not waiting) is left out: it has no position in the answer.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, int>> PositionsAsync(string type, IReadOnlyCollection<string> jobIds, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {Partition(type)} and RowKey ge {WaitPrefix} and RowKey lt {WaitEnd}");
        var head = new List<SlotWaiter>();
        await foreach (var page in _table.QueryAsync<TableEntity>(filter, maxPerPage: MaxQueueRead, select: ["JobId", "Key", "Priority", "ArrivedAt"],
            cancellationToken: cancellationToken).AsPages(pageSizeHint: MaxQueueRead))
        {
            head.AddRange(page.Values.Select(row =>
                new SlotWaiter(row.GetString("JobId"), row.GetString("Key") ?? "", row.GetInt32("Priority") ?? 0, row.GetDateTimeOffset("ArrivedAt") ?? default)));
            break; // one request: the head of the queue
        }
        var limits = LimitsOf(type);
        var positions = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var id in jobIds)
        {
            if (SlotGate.Position(head, id, limits) is { } position)
            {
                positions[id] = position;
            }
        }
        return positions;
    }

    /// <summary>
    /// The reconciler's side: for each type with a slot row, a slot whose job has ended (or is gone) is given back — an
    /// instance killed between an ending and its release, or an ending written where no release could follow — and the
    /// next waiters start; a job granted a slot but still queued after <paramref name="grace"/> (its wake-up was lost) is
    /// woken again; waiters that now fit (a deployment raised a limit) are granted. Returns how many slots it freed and
    /// jobs it woke. Costs one point read per type, one per holder, and a queue read only where jobs wait.
    /// </summary>
    public async Task<(int Freed, int Woken)> RecoverAsync(
        Func<string, CancellationToken, Task<Job?>> read, DateTimeOffset now, TimeSpan grace, DurableTaskClient durable, CancellationToken cancellationToken)
    {
        var (freed, woken) = (0, 0);
        foreach (var handler in Handlers.All)
        {
            var state = await ReadAsync(handler.Type, cancellationToken);
            var wake = new List<string>();
            foreach (var holder in state.Holders)
            {
                var job = await read(holder.JobId, cancellationToken);
                if (job is null || job.Status.IsTerminal())
                {
                    wake.AddRange(await ReleaseHolderAsync(handler.Type, holder.JobId, cancellationToken));
                    freed++;
                }
                else if (job.Status == JobStatus.Queued && now - job.UpdatedAt > grace)
                {
                    wake.Add(job.Id);
                }
            }
            if (!state.Paused && state.Waiting > 0)
            {
                wake.AddRange(await GrantAsync(handler.Type, null, cancellationToken));
            }
            woken += await WakeAsync(durable, wake.Distinct(), cancellationToken);
        }
        return (freed, woken);
    }

    /// <summary>Gives back a slot by job id alone (its record is gone or ended; it holds no waiting row).</summary>
    private Task<IReadOnlyList<string>> ReleaseHolderAsync(string type, string jobId, CancellationToken cancellationToken) =>
        ReleaseAsync(new Job { Id = jobId, Type = type, Status = JobStatus.Cancelled, Owner = "" }, cancellationToken);

    /// <summary>
    /// Tells each granted job's orchestration it holds a slot. A failure is logged and left: the reconciler wakes a job
    /// granted but still queued (<see cref="RecoverAsync"/>). Returns how many were sent.
    /// </summary>
    public async Task<int> WakeAsync(DurableTaskClient? durable, IEnumerable<string> jobIds, CancellationToken cancellationToken)
    {
        var sent = 0;
        foreach (var id in jobIds)
        {
            if (durable is null)
            {
                LogWakeLeft(id);
                continue;
            }
            try
            {
                await durable.RaiseEventAsync(id, GrantedEvent, null, cancellationToken);
                sent++;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogWakeFailed(ex, id);
            }
        }
        return sent;
    }

    private async Task<TableEntity> ReadGateAsync(string type, CancellationToken cancellationToken)
    {
        var response = await _table.GetEntityIfExistsAsync<TableEntity>(Partition(type), GateRowKey, cancellationToken: cancellationToken);
        return response.HasValue ? response.Value! : new TableEntity(Partition(type), GateRowKey) { ["Paused"] = false, ["Waiting"] = 0 };
    }

    /// <summary>The head of the type's queue in start order (a range read, only when the slot row says jobs wait).</summary>
    private async Task<IReadOnlyList<SlotWaiter>> ReadQueueAsync(string type, TableEntity gate, CancellationToken cancellationToken)
    {
        if (Waiting(gate) <= 0)
        {
            return [];
        }
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {Partition(type)} and RowKey ge {WaitPrefix} and RowKey lt {WaitEnd}");
        var queue = new List<SlotWaiter>();
        await foreach (var row in _table.QueryAsync<TableEntity>(filter, maxPerPage: MaxQueueRead, cancellationToken: cancellationToken))
        {
            queue.Add(new SlotWaiter(row.GetString("JobId"), row.GetString("Key") ?? "", row.GetInt32("Priority") ?? 0, row.GetDateTimeOffset("ArrivedAt") ?? default));
            if (queue.Count >= MaxQueueRead)
            {
                break;
            }
        }
        return queue;
    }

    /// <summary>
    /// Writes the slot row (holders, waiting count) under the ETag it was read with — inserted when new — with the
    /// waiting rows' changes, as one transaction. False on a conflict (another instance changed the slots): decide again.
    /// </summary>
    private async Task<bool> TryWriteAsync(
        string type, TableEntity gate, IReadOnlyList<SlotHolder> holders, int waiting, IReadOnlyList<TableTransactionAction> rows, int attempt,
        CancellationToken cancellationToken)
    {
        var next = new TableEntity(Partition(type), GateRowKey)
        {
            ["Paused"] = IsPaused(gate),
            ["Holders"] = JsonSerializer.Serialize(holders.Select(h => new[] { h.JobId, h.Key })),
            ["Waiting"] = Math.Max(0, waiting),
        };
        var write = gate.ETag == default
            ? new TableTransactionAction(TableTransactionActionType.Add, next)
            : new TableTransactionAction(TableTransactionActionType.UpdateReplace, next, gate.ETag);
        try
        {
            await _table.SubmitTransactionAsync([write, .. rows], cancellationToken);
            return true;
        }
        catch (TableTransactionFailedException ex) when (ex.Status is 409 or 412 or 404 && attempt < MaxConflictRetries)
        {
            LogConflict(type, attempt, ex.Status);
            return false;
        }
    }

    private static bool IsPaused(TableEntity gate) => gate.GetBoolean("Paused") ?? false;

    private static int Waiting(TableEntity gate) => gate.GetInt32("Waiting") ?? 0;

    private static IReadOnlyList<SlotHolder> Holders(TableEntity gate) =>
        gate.GetString("Holders") is { Length: > 0 } json
            ? [.. (JsonSerializer.Deserialize<string[][]>(json) ?? []).Select(pair => new SlotHolder(pair[0], pair[1]))]
            : [];

    private static SlotWaiter ToWaiter(Job job) => new(job.Id, SlotGate.KeyOf(job.ConcurrencyKey), Math.Clamp(job.Priority, 0, 9), job.CreatedAt);

    private static SlotHolder AsHolder(SlotWaiter waiter) => new(waiter.JobId, waiter.Key);

    private static string WaitRowKey(SlotWaiter waiter) =>
        string.Create(CultureInfo.InvariantCulture, $"{WaitPrefix}{9 - waiter.Priority}-{waiter.ArrivedAt.UtcTicks:D19}-{waiter.JobId}");

    private static TableEntity WaitRow(string type, SlotWaiter waiter) => new(Partition(type), WaitRowKey(waiter))
    {
        ["JobId"] = waiter.JobId,
        ["Key"] = waiter.Key,
        ["Priority"] = waiter.Priority,
        ["ArrivedAt"] = waiter.ArrivedAt,
    };

    private static TableTransactionAction DeleteWait(string type, SlotWaiter waiter) =>
        new(TableTransactionActionType.Delete, new TableEntity(Partition(type), WaitRowKey(waiter)), ETag.All);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Slots of {Type} changed under us (attempt {Attempt}, storage said {Status}); re-reading.")]
    private partial void LogConflict(string type, int attempt, int status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} was granted a slot but could not be woken; the reconciler wakes it.")]
    private partial void LogWakeFailed(Exception exception, string jobId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} was granted a slot with no durable client at hand; the reconciler wakes it.")]
    private partial void LogWakeLeft(string jobId);
}
