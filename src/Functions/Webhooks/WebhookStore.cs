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
/// </list>
/// Every change is written under the ETag it was decided on.
/// </summary>
public sealed partial class WebhookStore(StorageClients clients, IOptions<WebhookOptions> options, TimeProvider time)
{
    public const string SubscriptionPartition = "webhooks";
    private const string SubscriptionPrefix = "sub-";
    private const string DeliveryPrefix = "d-";

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
            TableClient.CreateQueryFilter($"PartitionKey eq {SubscriptionPartition}"), cancellationToken: cancellationToken))
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
            TableClient.CreateQueryFilter($"PartitionKey eq {SubscriptionPartition} and Owner eq {owner}"), cancellationToken: cancellationToken))
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

    public async Task<bool> DeleteAsync(string id, CancellationToken cancellationToken)
    {
        try
        {
            await _table.DeleteEntityAsync(SubscriptionPartition, SubscriptionPrefix + id, ETag.All, cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return false;
        }
        finally
        {
            Forget();
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
    /// Records a delivery owed (state pending), once: announcing the same change again finds it there and returns null
    /// (whoever added it delivers it; the sweep takes over if that instance died). Returns the ETag written.
    /// </summary>
    public async Task<ETag?> TryAddDeliveryAsync(WebhookDelivery delivery, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _table.AddEntityAsync(ToEntity(delivery), cancellationToken);
            return response.Headers.ETag;
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return null;
        }
    }

    /// <summary>Writes a delivery's new state under <paramref name="etag"/>; null when another writer changed it first (412).</summary>
    public async Task<ETag?> TryUpdateDeliveryAsync(WebhookDelivery delivery, ETag etag, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _table.UpdateEntityAsync(ToEntity(delivery), etag, TableUpdateMode.Replace, cancellationToken);
            return response.Headers.ETag;
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            return null;
        }
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

    /// <summary>Pending deliveries of a subscription whose next try was due before <paramref name="before"/> (the sweep's backstop).</summary>
    public async Task<IReadOnlyList<(WebhookDelivery Delivery, ETag ETag)>> OverdueAsync(string subscriptionId, DateTimeOffset before, int max, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {DeliveryPartition(subscriptionId)} and State eq {nameof(WebhookDeliveryState.Pending)} and NextTryAt lt {before}");
        var found = new List<(WebhookDelivery, ETag)>();
        await foreach (var row in _table.QueryAsync<TableEntity>(filter, maxPerPage: max, cancellationToken: cancellationToken))
        {
            found.Add((ToDelivery(row), row.ETag));
            if (found.Count >= max)
            {
                break;
            }
        }
        return found;
    }

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
        Body = row.GetString("Body") ?? "",
    };

    private static List<string>? Split(string? value) =>
        string.IsNullOrEmpty(value) ? null : [.. value.Split(',', StringSplitOptions.RemoveEmptyEntries)];

    [GeneratedRegex("^[0-9]{19}-[0-9a-f]{32}-[0-9]{9}$")]
    private static partial Regex DeliveryIdPattern();

    [GeneratedRegex("^[0-9a-f]{32}$")]
    private static partial Regex SubscriptionIdPattern();
}
