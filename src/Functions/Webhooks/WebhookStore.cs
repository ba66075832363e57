using System.Globalization;
using System.Text.RegularExpressions;
using Azure;
using Azure.Data.Tables;
using Jobs.Functions.Storage;
using Microsoft.Extensions.Options;

namespace Jobs.Functions.Webhooks;

/// <summary>
/// Subscriptions and their delivery logs, in the <c>Jobs</c> table:
/// <list type="table">
/// <item><term>subscription</term><description>PartitionKey <c>webhooks</c>, RowKey <c>sub-{id}</c> (id: 32 hex); owner, URL,
/// events, job types, scope, secret, disabled reason. One partition: the projector reads all of them in one range read
/// (cached for <see cref="WebhookOptions.SubscriptionCacheSeconds"/>), and an owner's list is that read filtered.</description></item>
/// <item><term>delivery</term><description>PartitionKey <c>whd-{subscription id}</c>, RowKey <c>d-{delivery id}</c>: one event
/// owed to one subscription and what its tries got (<see cref="WebhookDelivery"/>); the id starts with the inverted
/// change time, so a range read lists newest first.</description></item>
/// <item><term>pending index</term><description>same partition, RowKey <c>p-{sweep-at ticks, 19 digits}-{delivery id}</c>, no
/// columns: one per pending delivery, at the time the sweep may take it over (<see cref="WebhookDelivery.SweepAt"/>).
/// Written, moved and removed in the same entity-group transaction as the delivery row's change, so the sweep's lookup
/// is a key range (<c>p-</c> up to now) whose cost is the rows due, not the subscription's history.</description></item>
/// <item><term>job index</term><description>same partition, RowKey <c>j-{job id}-{delivery id}</c>, no columns: written with
/// the delivery row, so deleting a job finds its deliveries in each subscription that could have wanted it with one
/// key-range read (<see cref="DeleteJobDeliveriesAsync"/>) and removes them with it.</description></item>
/// <item><term>deleted subscription</term><description>PartitionKey <c>webhooks</c>, RowKey <c>gone-{id}</c>: a subscription
/// deleted while its delivery rows were more than one call removes; the sweep removes the rest, then this row.</description></item>
/// </list>
/// Delivered and failed rows older than <see cref="WebhookOptions.DeliveryRetentionDays"/> are removed by the sweep
/// (<see cref="PruneDeliveriesAsync"/>), a key range at the old end of the partition. Every change is written under the
/// ETag it was decided on.
/// </summary>
public sealed partial class WebhookStore(StorageClients clients, IOptions<WebhookOptions> options, TimeProvider time)
{
    public const string SubscriptionPartition = "webhooks";
    private const string SubscriptionPrefix = "sub-";
    private const string DeliveryPrefix = "d-";
    private const string PendingPrefix = "p-";
    private const string JobPrefix = "j-";
    private const string GonePrefix = "gone-";

    /// <summary>Most rows one entity-group transaction may hold.</summary>
    private const int MaxBatch = 100;

    private readonly TableClient _table = clients.JobsTable;
    private readonly Lock _cacheLock = new();
    private (DateTimeOffset Until, IReadOnlyList<WebhookSubscription> Subscriptions)? _cache;

    public static string DeliveryPartition(string subscriptionId) => "whd-" + subscriptionId;

    /// <summary>A delivery's id: the inverted change time, the job, the change number — the same for every announcement of one change.</summary>
    public static string DeliveryId(string jobId, int seq, DateTimeOffset changedAt) =>
        (DateTimeOffset.MaxValue.UtcTicks - changedAt.UtcTicks).ToString("D19", CultureInfo.InvariantCulture) + "-" + jobId + "-" + seq.ToString("D9", CultureInfo.InvariantCulture);

    public static bool IsDeliveryId(string? value) => value is not null && DeliveryIdPattern().IsMatch(value);

    public static bool IsSubscriptionId(string? value) => value is not null && SubscriptionIdPattern().IsMatch(value);

    /// <summary>Every subscription, as last read (at most <see cref="WebhookOptions.SubscriptionCacheSeconds"/> old).</summary>
    public async Task<IReadOnlyList<WebhookSubscription>> AllAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        lock (_cacheLock)
        {
            if (_cache is { } cached && cached.Until > now)
            {
                return cached.Subscriptions;
            }
        }
        var read = new List<WebhookSubscription>();
        await foreach (var row in _table.QueryAsync<TableEntity>(
            TableClient.CreateQueryFilter($"PartitionKey eq {SubscriptionPartition} and RowKey ge {SubscriptionPrefix} and RowKey lt {"sub."}"),
            cancellationToken: cancellationToken))
        {
            read.Add(ToSubscription(row));
        }
        lock (_cacheLock)
        {
            _cache = (now.AddSeconds(options.Value.SubscriptionCacheSeconds), read);
        }
        return read;
    }

    /// <summary>One owner's subscriptions (one range read, never the cache: the API shows what is stored).</summary>
    public async Task<IReadOnlyList<WebhookSubscription>> ListAsync(string owner, CancellationToken cancellationToken)
    {
        var read = new List<WebhookSubscription>();
        await foreach (var row in _table.QueryAsync<TableEntity>(
            TableClient.CreateQueryFilter($"PartitionKey eq {SubscriptionPartition} and RowKey ge {SubscriptionPrefix} and RowKey lt {"sub."} and Owner eq {owner}"),
            cancellationToken: cancellationToken))
        {
            read.Add(ToSubscription(row));
        }
        return [.. read.OrderBy(s => s.CreatedAt)];
    }

    public async Task<WebhookSubscription?> GetAsync(string id, CancellationToken cancellationToken)
    {
        var row = await _table.GetEntityIfExistsAsync<TableEntity>(SubscriptionPartition, SubscriptionPrefix + id, cancellationToken: cancellationToken);
        return row.HasValue ? ToSubscription(row.Value!) : null;
    }

    public async Task AddAsync(WebhookSubscription subscription, CancellationToken cancellationToken)
    {
        await _table.AddEntityAsync(ToEntity(subscription), cancellationToken);
        Forget();
    }

    /// <summary>
    /// Deletes a subscription and up to <paramref name="maxDeliveries"/> of its delivery rows; when more are left, a
    /// <c>gone-</c> row tells the sweep to remove the rest. False when there was no such subscription.
    /// </summary>
    public async Task<bool> DeleteAsync(string id, int maxDeliveries, CancellationToken cancellationToken)
    {
        try
        {
            await _table.DeleteEntityAsync(SubscriptionPartition, SubscriptionPrefix + id, ETag.All, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return false;
        }
        finally
        {
            Forget();
        }
        if (!(await DeleteDeliveryRowsAsync(id, maxDeliveries, cancellationToken)).Done)
        {
            await _table.UpsertEntityAsync(new TableEntity(SubscriptionPartition, GonePrefix + id) { ["DeletedAt"] = time.GetUtcNow() },
                TableUpdateMode.Replace, cancellationToken);
        }
        return true;
    }

    /// <summary>Ids of deleted subscriptions whose delivery rows are still being removed (one range read).</summary>
    public async Task<IReadOnlyList<string>> DeletedAsync(int max, CancellationToken cancellationToken)
    {
        var ids = new List<string>();
        await foreach (var row in _table.QueryAsync<TableEntity>(
            TableClient.CreateQueryFilter($"PartitionKey eq {SubscriptionPartition} and RowKey ge {GonePrefix} and RowKey lt {"gone."}"),
            maxPerPage: max, select: ["RowKey"], cancellationToken: cancellationToken))
        {
            ids.Add(row.RowKey[GonePrefix.Length..]);
            if (ids.Count >= max)
            {
                break;
            }
        }
        return ids;
    }

    /// <summary>
    /// Removes up to <paramref name="max"/> more rows of a deleted subscription; when none is left, its <c>gone-</c> row
    /// too. Returns how many rows were removed and whether it is done.
    /// </summary>
    public async Task<(int Removed, bool Done)> FinishDeletingAsync(string id, int max, CancellationToken cancellationToken)
    {
        var (removed, done) = await DeleteDeliveryRowsAsync(id, max, cancellationToken);
        if (!done)
        {
            return (removed, false);
        }
        try
        {
            await _table.DeleteEntityAsync(SubscriptionPartition, GonePrefix + id, ETag.All, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // Another instance finished it.
        }
        return (removed, true);
    }

    /// <summary>Deletes up to <paramref name="max"/> rows of a subscription's delivery partition; done when none is left.</summary>
    private async Task<(int Removed, bool Done)> DeleteDeliveryRowsAsync(string id, int max, CancellationToken cancellationToken)
    {
        var keys = new List<string>();
        var more = false;
        await foreach (var row in _table.QueryAsync<TableEntity>(
            TableClient.CreateQueryFilter($"PartitionKey eq {DeliveryPartition(id)}"), maxPerPage: Math.Min(max + 1, 1000), select: ["RowKey"],
            cancellationToken: cancellationToken))
        {
            if (keys.Count == max)
            {
                more = true;
                break;
            }
            keys.Add(row.RowKey);
        }
        await DeleteRowsAsync(DeliveryPartition(id), keys, cancellationToken);
        return (keys.Count, !more);
    }

    private async Task DeleteRowsAsync(string partition, IReadOnlyList<string> rowKeys, CancellationToken cancellationToken)
    {
        foreach (var chunk in rowKeys.Chunk(MaxBatch))
        {
            try
            {
                await _table.SubmitTransactionAsync(
                    [.. chunk.Select(rowKey => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(partition, rowKey), ETag.All))],
                    cancellationToken);
            }
            catch (TableTransactionFailedException ex) when (ex.Status == 404)
            {
                // Another writer removed one of them meanwhile: delete the rest one by one.
                foreach (var rowKey in chunk)
                {
                    try
                    {
                        await _table.DeleteEntityAsync(partition, rowKey, ETag.All, cancellationToken);
                    }
                    catch (RequestFailedException one) when (one.Status == 404)
                    {
                    }
                }
            }
        }
    }

    /// <summary>Disables a subscription with its reason (a later disable keeps the first reason).</summary>
    public async Task DisableAsync(string id, string reason, CancellationToken cancellationToken)
    {
        var row = await _table.GetEntityIfExistsAsync<TableEntity>(SubscriptionPartition, SubscriptionPrefix + id, cancellationToken: cancellationToken);
        if (!row.HasValue || row.Value!.GetBoolean("Disabled") == true)
        {
            return;
        }
        var entity = row.Value;
        entity["Disabled"] = true;
        entity["DisabledReason"] = reason.Length > 1000 ? reason[..1000] : reason;
        entity["DisabledAt"] = time.GetUtcNow();
        try
        {
            await _table.UpdateEntityAsync(entity, entity.ETag, TableUpdateMode.Replace, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            // Deleted or changed meanwhile: nothing to disable, or another instance did.
        }
        Forget();
    }

    /// <summary>
    /// Records a delivery owed (state pending) with its pending-index row, in one transaction, once: announcing the same
    /// change again finds it there and returns null (whoever added it delivers it; the sweep takes over once its claim
    /// lapses). Returns the ETag written.
    /// </summary>
    public async Task<ETag?> TryAddDeliveryAsync(WebhookDelivery delivery, CancellationToken cancellationToken)
    {
        List<TableTransactionAction> actions =
        [
            new(TableTransactionActionType.Add, ToEntity(delivery)),
            new(TableTransactionActionType.Add, new TableEntity(DeliveryPartition(delivery.SubscriptionId), JobRow(delivery.JobId, delivery.Id))),
        ];
        if (PendingRow(delivery) is { } pending)
        {
            actions.Add(new(TableTransactionActionType.Add, pending));
        }
        try
        {
            var response = await _table.SubmitTransactionAsync(actions, cancellationToken);
            return await WrittenETagAsync(response.Value[0], delivery, cancellationToken);
        }
        catch (TableTransactionFailedException ex) when (ex.Status == 409)
        {
            return null;
        }
    }

    /// <summary>
    /// Writes a delivery's new state under <paramref name="etag"/> (the ETag <paramref name="read"/> was read or written
    /// with), moving its pending-index row in the same transaction; null when another writer changed it first (412) or
    /// it is gone.
    /// </summary>
    public async Task<ETag?> TryUpdateDeliveryAsync(WebhookDelivery read, WebhookDelivery delivery, ETag etag, CancellationToken cancellationToken)
    {
        var before = PendingRow(read);
        var after = PendingRow(delivery);
        var moved = before?.RowKey != after?.RowKey;
        List<TableTransactionAction> actions = [new(TableTransactionActionType.UpdateReplace, ToEntity(delivery), etag)];
        if (moved && before is not null)
        {
            actions.Add(new(TableTransactionActionType.Delete, before, ETag.All));
        }
        if (moved && after is not null)
        {
            actions.Add(new(TableTransactionActionType.UpsertReplace, after));
        }
        try
        {
            var response = await _table.SubmitTransactionAsync(actions, cancellationToken);
            return await WrittenETagAsync(response.Value[0], delivery, cancellationToken);
        }
        catch (TableTransactionFailedException ex) when (ex.Status is 404 && ex.FailedTransactionActionIndex == 0 || ex.Status == 412)
        {
            return null;
        }
        catch (TableTransactionFailedException ex) when (ex.Status == 404 && moved && before is not null)
        {
            // The index row was not there (a row written before the index existed): write the change without removing it.
            actions.RemoveAt(1);
            var response = await _table.SubmitTransactionAsync(actions, cancellationToken);
            return await WrittenETagAsync(response.Value[0], delivery, cancellationToken);
        }
    }

    /// <summary>The ETag a transaction wrote for a delivery row (read back when the response does not carry it).</summary>
    private async Task<ETag> WrittenETagAsync(Response response, WebhookDelivery delivery, CancellationToken cancellationToken)
    {
        if (response.Headers.ETag is { } etag)
        {
            return etag;
        }
        var row = await _table.GetEntityAsync<TableEntity>(DeliveryPartition(delivery.SubscriptionId), DeliveryPrefix + delivery.Id, select: ["RowKey"],
            cancellationToken: cancellationToken);
        return row.Value.ETag;
    }

    public async Task<(WebhookDelivery Delivery, ETag ETag)?> GetDeliveryAsync(string subscriptionId, string deliveryId, CancellationToken cancellationToken)
    {
        var row = await _table.GetEntityIfExistsAsync<TableEntity>(DeliveryPartition(subscriptionId), DeliveryPrefix + deliveryId, cancellationToken: cancellationToken);
        return row.HasValue ? (ToDelivery(row.Value!), row.Value!.ETag) : null;
    }

    /// <summary>A page of a subscription's deliveries, newest first: one range read. <paramref name="after"/> is the last id of the previous page.</summary>
    public async Task<(IReadOnlyList<WebhookDelivery> Page, string? Next)> ListDeliveriesAsync(string subscriptionId, int limit, string? after, CancellationToken cancellationToken)
    {
        var from = after is null ? DeliveryPrefix : DeliveryPrefix + after + "\0";
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {DeliveryPartition(subscriptionId)} and RowKey ge {from} and RowKey lt {"d."}");
        var page = new List<WebhookDelivery>();
        await foreach (var row in _table.QueryAsync<TableEntity>(filter, maxPerPage: limit + 1, cancellationToken: cancellationToken))
        {
            if (page.Count == limit)
            {
                return (page, page[^1].Id);
            }
            page.Add(ToDelivery(row));
        }
        return (page, null);
    }

    /// <summary>
    /// Ids of a subscription's pending deliveries the sweep may take over by <paramref name="now"/> (unclaimed and due,
    /// or claimed by an instance whose claim lapsed), oldest first: one key-range read of the pending index.
    /// </summary>
    public async Task<IReadOnlyList<string>> OverdueAsync(string subscriptionId, DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {DeliveryPartition(subscriptionId)} and RowKey ge {PendingPrefix} and RowKey lt {PendingPrefix + Ticks(now)}");
        var found = new List<string>();
        await foreach (var row in _table.QueryAsync<TableEntity>(filter, maxPerPage: max, select: ["RowKey"], cancellationToken: cancellationToken))
        {
            found.Add(row.RowKey[(PendingPrefix.Length + 20)..]);
            if (found.Count >= max)
            {
                break;
            }
        }
        return found;
    }

    /// <summary>
    /// Removes up to <paramref name="max"/> delivered or failed rows of a subscription created before
    /// <paramref name="before"/>: one key-range read of the partition's old end (ids start with the inverted time), then
    /// entity-group deletes. A pending row is left to its tries. Returns how many were removed.
    /// </summary>
    public async Task<int> PruneDeliveriesAsync(string subscriptionId, DateTimeOffset before, int max, CancellationToken cancellationToken)
    {
        var from = DeliveryPrefix + (DateTimeOffset.MaxValue.UtcTicks - before.UtcTicks).ToString("D19", CultureInfo.InvariantCulture);
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {DeliveryPartition(subscriptionId)} and RowKey gt {from} and RowKey lt {"d."}");
        var keys = new List<string>();
        var removed = 0;
        await foreach (var row in _table.QueryAsync<TableEntity>(filter, maxPerPage: Math.Min(max, 1000), select: ["RowKey", "State", "JobId"], cancellationToken: cancellationToken))
        {
            if (row.GetString("State") != nameof(WebhookDeliveryState.Pending))
            {
                keys.Add(row.RowKey);
                keys.Add(JobRow(row.GetString("JobId") ?? "", row.RowKey[DeliveryPrefix.Length..]));
                removed++;
            }
            if (removed >= max)
            {
                break;
            }
        }
        await DeleteRowsAsync(DeliveryPartition(subscriptionId), keys, cancellationToken);
        return removed;
    }

    /// <summary>
    /// Removes every delivery of job <paramref name="jobId"/> owned by <paramref name="owner"/> (its rows carry the job's
    /// status shape): one key-range read of the job index in each subscription that could have wanted it — the owner's
    /// and the all-jobs ones — and one entity-group delete where it has any. Returns how many deliveries were removed.
    /// </summary>
    public async Task<int> DeleteJobDeliveriesAsync(string jobId, string owner, CancellationToken cancellationToken)
    {
        var removed = 0;
        foreach (var subscription in await AllAsync(cancellationToken))
        {
            if (!subscription.AllJobs && !string.Equals(subscription.Owner, owner, StringComparison.Ordinal))
            {
                continue;
            }
            var partition = DeliveryPartition(subscription.Id);
            var prefix = JobPrefix + jobId + "-";
            var keys = new List<string>();
            await foreach (var row in _table.QueryAsync<TableEntity>(
                TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey gt {prefix} and RowKey lt {prefix + "~"}"),
                select: ["RowKey"], cancellationToken: cancellationToken))
            {
                var deliveryId = row.RowKey[prefix.Length..];
                keys.Add(row.RowKey);
                keys.Add(DeliveryPrefix + deliveryId);
                if (await GetDeliveryAsync(subscription.Id, deliveryId, cancellationToken) is { } found && PendingRow(found.Delivery) is { } pending)
                {
                    keys.Add(pending.RowKey);
                }
                removed++;
            }
            await DeleteRowsAsync(partition, keys, cancellationToken);
        }
        return removed;
    }

    private static string JobRow(string jobId, string deliveryId) => JobPrefix + jobId + "-" + deliveryId;

    private static string Ticks(DateTimeOffset at) => at.UtcTicks.ToString("D19", CultureInfo.InvariantCulture);

    private static TableEntity? PendingRow(WebhookDelivery d) =>
        d.SweepAt is { } at ? new TableEntity(DeliveryPartition(d.SubscriptionId), PendingPrefix + Ticks(at) + "-" + d.Id) : null;

    private void Forget()
    {
        lock (_cacheLock)
        {
            _cache = null;
        }
    }

    private static TableEntity ToEntity(WebhookSubscription s) => new(SubscriptionPartition, SubscriptionPrefix + s.Id)
    {
        ["Owner"] = s.Owner,
        ["Url"] = s.Url,
        ["Events"] = string.Join(",", s.Events),
        ["JobTypes"] = s.JobTypes is null ? null : string.Join(",", s.JobTypes),
        ["AllJobs"] = s.AllJobs,
        ["AllJobsUntil"] = s.AllJobsUntil,
        ["Description"] = s.Description,
        ["CreatedAt"] = s.CreatedAt,
        ["Secret"] = s.Secret,
        ["Disabled"] = s.Disabled,
        ["DisabledReason"] = s.DisabledReason,
        ["DisabledAt"] = s.DisabledAt,
    };

    private static WebhookSubscription ToSubscription(TableEntity row) => new()
    {
        Id = row.RowKey[SubscriptionPrefix.Length..],
        Owner = row.GetString("Owner"),
        Url = row.GetString("Url"),
        Events = Split(row.GetString("Events")) ?? [],
        JobTypes = Split(row.GetString("JobTypes")),
        AllJobs = row.GetBoolean("AllJobs") ?? false,
        AllJobsUntil = row.GetDateTimeOffset("AllJobsUntil"),
        Description = row.GetString("Description"),
        CreatedAt = row.GetDateTimeOffset("CreatedAt") ?? default,
        Secret = row.GetString("Secret"),
        Disabled = row.GetBoolean("Disabled") ?? false,
        DisabledReason = row.GetString("DisabledReason"),
        DisabledAt = row.GetDateTimeOffset("DisabledAt"),
    };

    private static TableEntity ToEntity(WebhookDelivery d) => new(DeliveryPartition(d.SubscriptionId), DeliveryPrefix + d.Id)
    {
        ["EventId"] = d.EventId,
        ["Event"] = d.Event,
        ["JobId"] = d.JobId,
        ["State"] = d.State.ToString(),
        ["Attempts"] = d.Attempts,
        ["ResponseCode"] = d.ResponseCode,
        ["Response"] = d.Response,
        ["Error"] = d.Error,
        ["LatencyMs"] = d.LatencyMs,
        ["CreatedAt"] = d.CreatedAt,
        ["LastAttemptAt"] = d.LastAttemptAt,
        ["NextTryAt"] = d.NextTryAt,
        ["ClaimedUntil"] = d.ClaimedUntil,
        ["Manual"] = d.Manual,
        ["Body"] = d.Body,
    };

    private static WebhookDelivery ToDelivery(TableEntity row) => new()
    {
        Id = row.RowKey[DeliveryPrefix.Length..],
        SubscriptionId = row.PartitionKey["whd-".Length..],
        EventId = row.GetString("EventId"),
        Event = row.GetString("Event"),
        JobId = row.GetString("JobId"),
        State = Enum.TryParse<WebhookDeliveryState>(row.GetString("State"), out var state)
            ? state : throw new InvalidOperationException($"Delivery {row.RowKey} in {row.PartitionKey} has an unknown state '{row.GetString("State")}'."),
        Attempts = row.GetInt32("Attempts") ?? 0,
        ResponseCode = row.GetInt32("ResponseCode"),
        Response = row.GetString("Response"),
        Error = row.GetString("Error"),
        LatencyMs = row.GetInt32("LatencyMs"),
        CreatedAt = row.GetDateTimeOffset("CreatedAt") ?? default,
        LastAttemptAt = row.GetDateTimeOffset("LastAttemptAt"),
        NextTryAt = row.GetDateTimeOffset("NextTryAt"),
        ClaimedUntil = row.GetDateTimeOffset("ClaimedUntil"),
        Manual = row.GetBoolean("Manual") ?? false,
        Body = row.GetString("Body") ?? "",
    };

    private static List<string>? Split(string? value) =>
        string.IsNullOrEmpty(value) ? null : [.. value.Split(',', StringSplitOptions.RemoveEmptyEntries)];

    [GeneratedRegex("^[0-9]{19}-[0-9a-f]{32}-[0-9]{9}$")]
    private static partial Regex DeliveryIdPattern();

    [GeneratedRegex("^[0-9a-f]{32}$")]
    private static partial Regex SubscriptionIdPattern();
}
