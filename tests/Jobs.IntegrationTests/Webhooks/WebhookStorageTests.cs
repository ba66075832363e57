using Azure.Data.Tables;
using Jobs.Functions.Webhooks;
using Jobs.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.IntegrationTests.Webhooks;

/// <summary>
/// The delivery log's storage on Azurite (review of issue 27): the sweep's lookup is a key range of the pending index,
/// old rows are removed, and a deleted job or subscription takes its delivery rows with it.
/// </summary>
[Collection(WebhookRunnerCollection.Name)]
public sealed class WebhookStorageTests(WebhookRunnerFixture runner)
{
    private WebhookStore Store => runner.Services.GetRequiredService<WebhookStore>();

    private TableClient Table => runner.Storage.JobsTable;

    [Fact]
    public async Task TheSweepsLookup_IsAKeyRangeOfThePendingIndex_AndFindsOnlyPendingRowsWhoseClaimLapsed()
    {
        var subscription = NewId();
        var now = DateTimeOffset.UtcNow;
        // History: delivered rows the old filter (PartitionKey and State and NextTryAt) had to scan on every run.
        for (var i = 0; i < 5; i++)
        {
            await AddAsync(subscription, now.AddMinutes(-10 - i), WebhookDeliveryState.Delivered);
        }
        var lapsed = await AddAsync(subscription, now.AddMinutes(-5), WebhookDeliveryState.Pending, claimedUntil: now.AddMinutes(-1));
        var claimed = await AddAsync(subscription, now.AddMinutes(-4), WebhookDeliveryState.Pending, claimedUntil: now.AddMinutes(1));
        var queries = new System.Collections.Concurrent.ConcurrentQueue<string>();
        runner.Requests.Watch(r =>
        {
            if (r.Method == "GET" && r.Query.Contains("whd-" + subscription, StringComparison.Ordinal))
            {
                queries.Enqueue(r.Query);
            }
            return false;
        });
        try
        {
            var overdue = await Store.OverdueAsync(subscription, now, 100, default);

            Assert.Equal([lapsed.Id], overdue);
            var query = Assert.Single(queries);
            Assert.Contains("RowKey ge 'p-'", query, StringComparison.Ordinal);
            Assert.DoesNotContain("State", query, StringComparison.Ordinal);
            Assert.DoesNotContain("NextTryAt", query, StringComparison.Ordinal);
        }
        finally
        {
            runner.Requests.Clear();
        }

        // Delivered: its index row goes in the same transaction, so the sweep no longer finds it.
        var read = await Store.GetDeliveryAsync(subscription, lapsed.Id, default);
        Assert.NotNull(await Store.TryUpdateDeliveryAsync(read!.Value.Delivery,
            read.Value.Delivery with { State = WebhookDeliveryState.Delivered, ClaimedUntil = null, NextTryAt = null }, read.Value.ETag, default));
        Assert.Empty(await Store.OverdueAsync(subscription, now, 100, default));
        // The claimed one is found once its claim has lapsed.
        Assert.Equal([claimed.Id], await Store.OverdueAsync(subscription, now.AddMinutes(2), 100, default));
        Assert.Equal(1, await CountAsync(subscription, "p-"));
    }

    [Fact]
    public async Task DeliveredAndFailedRows_OlderThanTheRetention_AreRemoved_PendingAndRecentOnesKept()
    {
        var subscription = NewId();
        var now = DateTimeOffset.UtcNow;
        var oldDelivered = await AddAsync(subscription, now.AddDays(-40), WebhookDeliveryState.Delivered);
        var oldFailed = await AddAsync(subscription, now.AddDays(-31), WebhookDeliveryState.Failed);
        var oldPending = await AddAsync(subscription, now.AddDays(-35), WebhookDeliveryState.Pending, claimedUntil: now.AddMinutes(1));
        var recent = await AddAsync(subscription, now.AddDays(-29), WebhookDeliveryState.Delivered);

        var removed = await Store.PruneDeliveriesAsync(subscription, now.AddDays(-30), 100, default);

        Assert.Equal(2, removed);
        var (left, _) = await Store.ListDeliveriesAsync(subscription, 100, null, default);
        Assert.Equal([recent.Id, oldPending.Id], left.Select(d => d.Id));
        Assert.DoesNotContain(await RowKeysAsync(subscription), k => k.Contains(oldDelivered.Id, StringComparison.Ordinal) || k.Contains(oldFailed.Id, StringComparison.Ordinal));
    }

    [Fact]
    public async Task DeletingAJob_RemovesItsDeliveries_FromItsOwnersAndAllJobsSubscriptions_OnlyThem()
    {
        var owner = "whs-" + Guid.NewGuid().ToString("N")[..8];
        var mine = await SubscribeAsync(owner, allJobs: false);
        var everyone = await SubscribeAsync("whs-admin-" + Guid.NewGuid().ToString("N")[..8], allJobs: true);
        var job = Guid.NewGuid().ToString("N");
        var other = Guid.NewGuid().ToString("N");
        var now = DateTimeOffset.UtcNow;
        await AddAsync(mine, now.AddMinutes(-3), WebhookDeliveryState.Delivered, job);
        await AddAsync(mine, now.AddMinutes(-2), WebhookDeliveryState.Pending, job, claimedUntil: now.AddMinutes(5));
        await AddAsync(everyone, now.AddMinutes(-3), WebhookDeliveryState.Failed, job);
        var kept = await AddAsync(mine, now.AddMinutes(-1), WebhookDeliveryState.Delivered, other);
        try
        {
            var removed = await Store.DeleteJobDeliveriesAsync(job, owner, default);

            Assert.Equal(3, removed);
            Assert.Equal([kept.Id], (await Store.ListDeliveriesAsync(mine, 100, null, default)).Page.Select(d => d.Id));
            Assert.Empty((await Store.ListDeliveriesAsync(everyone, 100, null, default)).Page);
            Assert.DoesNotContain(await RowKeysAsync(mine), k => k.Contains(job, StringComparison.Ordinal)); // nor index rows
            Assert.Empty(await Store.OverdueAsync(mine, now.AddDays(1), 100, default)); // the pending one's index row went too
        }
        finally
        {
            await Store.DeleteAsync(mine, 100, default);
            await Store.DeleteAsync(everyone, 100, default);
        }
    }

    [Fact]
    public async Task DeletingASubscription_RemovesItsDeliveryRows_UpToTheCallsBound_AndTheSweepTheRest()
    {
        var subscription = await SubscribeAsync("whs-" + Guid.NewGuid().ToString("N")[..8], allJobs: false);
        var now = DateTimeOffset.UtcNow;
        for (var i = 0; i < 4; i++)
        {
            await AddAsync(subscription, now.AddMinutes(-i), i == 0 ? WebhookDeliveryState.Pending : WebhookDeliveryState.Delivered, claimedUntil: now.AddMinutes(1));
        }
        Assert.Equal(4 * 2 + 1, (await RowKeysAsync(subscription)).Count); // rows, job index rows, one pending index row

        Assert.True(await Store.DeleteAsync(subscription, 5, default));

        Assert.Equal(4, (await RowKeysAsync(subscription)).Count);
        Assert.Contains(subscription, await Store.DeletedAsync(100, default));
        var sweep = ActivatorUtilities.CreateInstance<WebhookSweepFunction>(runner.Services);
        Assert.True(await sweep.FinishDeletionsAsync(1000, default) >= 4);
        Assert.Empty(await RowKeysAsync(subscription));
        Assert.DoesNotContain(subscription, await Store.DeletedAsync(100, default));
    }

    private static string NewId() => Guid.NewGuid().ToString("N");

    private async Task<string> SubscribeAsync(string owner, bool allJobs)
    {
        var subscription = new WebhookSubscription
        {
            Id = NewId(), Owner = owner, Url = "http://127.0.0.1:9/hook", Events = [WebhookEvents.Completed], AllJobs = allJobs,
            AllJobsUntil = allJobs ? DateTimeOffset.UtcNow.AddDays(1) : null, CreatedAt = DateTimeOffset.UtcNow, Secret = "whsec_" + Convert.ToBase64String(new byte[32]),
        };
        await Store.AddAsync(subscription, default);
        return subscription.Id;
    }

    private async Task<WebhookDelivery> AddAsync(string subscription, DateTimeOffset changedAt, WebhookDeliveryState state, string? jobId = null,
        DateTimeOffset? claimedUntil = null)
    {
        jobId ??= NewId();
        var pending = new WebhookDelivery
        {
            Id = WebhookStore.DeliveryId(jobId, 1, changedAt), SubscriptionId = subscription, EventId = jobId + "-1", Event = WebhookEvents.Completed,
            JobId = jobId, State = WebhookDeliveryState.Pending, CreatedAt = changedAt, NextTryAt = changedAt, ClaimedUntil = claimedUntil ?? changedAt,
            Body = "{}",
        };
        var etag = await Store.TryAddDeliveryAsync(pending, default);
        Assert.NotNull(etag);
        if (state == WebhookDeliveryState.Pending)
        {
            return pending;
        }
        var ended = pending with { State = state, Attempts = 1, NextTryAt = null, ClaimedUntil = null };
        Assert.NotNull(await Store.TryUpdateDeliveryAsync(pending, ended, etag!.Value, default));
        return ended;
    }

    private async Task<List<string>> RowKeysAsync(string subscription)
    {
        var keys = new List<string>();
        await foreach (var row in Table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {WebhookStore.DeliveryPartition(subscription)}"), select: ["RowKey"]))
        {
            keys.Add(row.RowKey);
        }
        return keys;
    }

    private async Task<int> CountAsync(string subscription, string prefix) => (await RowKeysAsync(subscription)).Count(k => k.StartsWith(prefix, StringComparison.Ordinal));
}
