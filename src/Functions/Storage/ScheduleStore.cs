using Azure;
using Azure.Data.Tables;
using Jobs.Functions.Schedules;

namespace Jobs.Functions.Storage;

/// <summary>A schedule as read, with the ETag every change of it is made under.</summary>
public sealed record StoredSchedule(Schedule Schedule, ETag ETag, DateTimeOffset? DueAt);

/// <summary>
/// The schedules' rows (<see cref="TableKeys.SchedulePartition"/>): the record, its id row and its due row change together
/// in one entity-group transaction, the record under the ETag it was read with, so two instances deciding the same
/// occurrence cannot both win, and the due rows are always the active schedules' next times.
/// </summary>
public sealed class ScheduleStore(StorageClients clients, TimeProvider time)
{
    private TableClient Table => clients.JobsTable;

    public DateTimeOffset Now => time.GetUtcNow();

    /// <summary>Writes a new schedule's rows; throws on a conflict (ids are random, so there is none to expect).</summary>
    public async Task<StoredSchedule> CreateAsync(Schedule schedule, CancellationToken cancellationToken)
    {
        var record = ScheduleEntity.From(schedule, default);
        List<TableTransactionAction> actions =
        [
            new(TableTransactionActionType.Add, record),
            new(TableTransactionActionType.Add, new TableEntity(TableKeys.SchedulePartition, TableKeys.ScheduleIdRowKey(schedule.Id)) { ["Owner"] = schedule.Owner }),
        ];
        AddDueRow(actions, schedule);
        var responses = await Table.SubmitTransactionAsync(actions, cancellationToken);
        return new StoredSchedule(schedule, responses.Value[0].Headers.ETag ?? default, record.DueAt);
    }

    /// <summary>The schedule with this id, or null (two point reads: the id row names the owner, whose key holds the record).</summary>
    public async Task<StoredSchedule?> GetAsync(string id, CancellationToken cancellationToken)
    {
        var pointer = await Table.GetEntityIfExistsAsync<TableEntity>(
            TableKeys.SchedulePartition, TableKeys.ScheduleIdRowKey(id), ["Owner"], cancellationToken);
        if (!pointer.HasValue || pointer.Value!.GetString("Owner") is not { } owner)
        {
            return null;
        }
        return await GetAsync(owner, id, cancellationToken);
    }

    /// <summary>The schedule of a known owner, or null: one point read.</summary>
    public async Task<StoredSchedule?> GetAsync(string owner, string id, CancellationToken cancellationToken)
    {
        var record = await Table.GetEntityIfExistsAsync<ScheduleEntity>(
            TableKeys.SchedulePartition, TableKeys.ScheduleRowKey(owner, id), cancellationToken: cancellationToken);
        return record.HasValue ? Stored(record.Value!) : null;
    }

    /// <summary>
    /// One page of schedules in key order (an owner's, or everyone's when <paramref name="owner"/> is null), after the
    /// RowKey <paramref name="after"/>; the page's last RowKey when there are more.
    /// </summary>
    public async Task<(IReadOnlyList<Schedule> Schedules, string? Next)> ListAsync(string? owner, string? after, int limit, CancellationToken cancellationToken)
    {
        var from = owner is null ? TableKeys.ScheduleRowKeyPrefix : TableKeys.ScheduleOwnerPrefix(owner);
        var to = owner is null ? TableKeys.ScheduleRowKeyEnd : from[..^1] + ".";
        var filter = after is null
            ? TableClient.CreateQueryFilter($"PartitionKey eq {TableKeys.SchedulePartition} and RowKey ge {from} and RowKey lt {to}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {TableKeys.SchedulePartition} and RowKey gt {after} and RowKey lt {to}");
        var found = new List<ScheduleEntity>();
        await foreach (var entity in Table.QueryAsync<ScheduleEntity>(filter, maxPerPage: limit + 1, cancellationToken: cancellationToken))
        {
            found.Add(entity);
            if (found.Count > limit)
            {
                break;
            }
        }
        var page = found.Take(limit).ToList();
        return ([.. page.Select(e => e.ToSchedule())], found.Count > limit ? page[^1].RowKey : null);
    }

    /// <summary>How many schedules an owner has, counting up to <paramref name="max"/> + 1 (one range read of keys only).</summary>
    public async Task<int> CountAsync(string owner, int max, CancellationToken cancellationToken)
    {
        var from = TableKeys.ScheduleOwnerPrefix(owner);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {TableKeys.SchedulePartition} and RowKey ge {from} and RowKey lt {from[..^1] + "."}");
        var count = 0;
        await foreach (var _ in Table.QueryAsync<TableEntity>(filter, maxPerPage: max + 1, select: ["RowKey"], cancellationToken: cancellationToken))
        {
            if (++count > max)
            {
                break;
            }
        }
        return count;
    }

    /// <summary>
    /// Replaces the schedule under the ETag it was read with, moving its due row in the same transaction; null when
    /// another writer changed it first (re-read and decide again).
    /// </summary>
    public async Task<StoredSchedule?> UpdateAsync(StoredSchedule stored, Schedule updated, CancellationToken cancellationToken)
    {
        var record = ScheduleEntity.From(updated, stored.ETag);
        List<TableTransactionAction> actions = [new(TableTransactionActionType.UpdateReplace, record, stored.ETag)];
        if (stored.DueAt != record.DueAt)
        {
            RemoveDueRow(actions, stored);
            AddDueRow(actions, updated);
        }
        try
        {
            var responses = await Table.SubmitTransactionAsync(actions, cancellationToken);
            return new StoredSchedule(updated, responses.Value[0].Headers.ETag ?? default, record.DueAt);
        }
        catch (TableTransactionFailedException ex) when (ex.Status is 412 or 404)
        {
            return null;
        }
    }

    /// <summary>Removes the schedule's rows; false when it changed or went since it was read.</summary>
    public async Task<bool> DeleteAsync(StoredSchedule stored, CancellationToken cancellationToken)
    {
        var schedule = stored.Schedule;
        List<TableTransactionAction> actions =
        [
            new(TableTransactionActionType.Delete, new TableEntity(TableKeys.SchedulePartition, TableKeys.ScheduleRowKey(schedule.Owner, schedule.Id)), stored.ETag),
            new(TableTransactionActionType.Delete, new TableEntity(TableKeys.SchedulePartition, TableKeys.ScheduleIdRowKey(schedule.Id)), ETag.All),
        ];
        RemoveDueRow(actions, stored);
        try
        {
            await Table.SubmitTransactionAsync(actions, cancellationToken);
            return true;
        }
        catch (TableTransactionFailedException ex) when (ex.Status is 412 or 404)
        {
            return false;
        }
    }

    /// <summary>The schedules whose due time is <paramref name="now"/> or earlier, earliest first: one range read.</summary>
    public async Task<IReadOnlyList<(string Id, string Owner)>> DueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {TableKeys.SchedulePartition} and RowKey ge {TableKeys.ScheduleDueRowKeyPrefix} and RowKey lt {TableKeys.ScheduleDueRowKeyEnd(now)}");
        var due = new List<(string, string)>();
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, maxPerPage: max, select: ["Id", "Owner"], cancellationToken: cancellationToken))
        {
            due.Add((row.GetString("Id"), row.GetString("Owner")));
            if (due.Count >= max)
            {
                break;
            }
        }
        return due;
    }

    private static StoredSchedule Stored(ScheduleEntity entity) => new(entity.ToSchedule(), entity.ETag, entity.DueAt);

    private static void AddDueRow(List<TableTransactionAction> actions, Schedule schedule)
    {
        if (schedule.DueAt is { } due)
        {
            actions.Add(new(TableTransactionActionType.Add, new TableEntity(TableKeys.SchedulePartition, TableKeys.ScheduleDueRowKey(due, schedule.Id))
            {
                ["Id"] = schedule.Id,
                ["Owner"] = schedule.Owner,
            }));
        }
    }

    private static void RemoveDueRow(List<TableTransactionAction> actions, StoredSchedule stored)
    {
        if (stored.DueAt is { } due)
        {
            actions.Add(new(TableTransactionActionType.Delete,
                new TableEntity(TableKeys.SchedulePartition, TableKeys.ScheduleDueRowKey(due, stored.Schedule.Id)), ETag.All));
        }
    }
}
