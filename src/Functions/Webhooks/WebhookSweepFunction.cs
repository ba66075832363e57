using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Jobs.Functions.Webhooks;

/// <summary>
/// Timer (every minute): the backstop of at-least-once delivery, and the delivery log's clean-up. A pending delivery
/// whose claim has lapsed — its process died between announcing and delivering, or before a retry, or had no room for it
/// — is handed to this process's <see cref="WebhookDispatcher"/>, which claims it again before sending. Per run: one
/// subscriptions read (cached) and one key-range read of each subscription's pending index (what is due, not the
/// history); the rows of deleted subscriptions still being removed; and once an hour (the run in minute 0) delivered and
/// failed rows older than <see cref="WebhookOptions.DeliveryRetentionDays"/> — one key-range read per subscription. Row
/// removals stop at <see cref="WebhookOptions.MaxPrunedPerRun"/> a run; the next run goes on.
/// </summary>
public sealed partial class WebhookSweepFunction(WebhookStore store, WebhookDispatcher dispatcher, IOptions<WebhookOptions> options, TimeProvider time,
    ILogger<WebhookSweepFunction> logger)
{
    /// <summary>A literal schedule (see <c>TimeoutSweepFunction.Schedule</c>); the local runner can override it for tests.</summary>
    public const string Schedule = "30 */1 * * * *";

    [Function(nameof(DeliverOverdueWebhooks))]
    public async Task DeliverOverdueWebhooks([TimerTrigger(Schedule)] TimerInfo timer, CancellationToken cancellationToken)
    {
        await SweepAsync(cancellationToken);
        var budget = options.Value.MaxPrunedPerRun - await FinishDeletionsAsync(options.Value.MaxPrunedPerRun, cancellationToken);
        if (time.GetUtcNow().Minute == 0 && budget > 0)
        {
            await PruneAsync(budget, cancellationToken);
        }
    }

    /// <summary>Hands every overdue delivery this process has room for to the dispatcher; returns how many.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var handed = 0;
        foreach (var subscription in await store.AllAsync(cancellationToken))
        {
            // A disabled subscription's pending rows are handed over too: their try records them failed and ends them.
            foreach (var id in await store.OverdueAsync(subscription.Id, now, WebhookDispatcher.MaxPerSubscription, cancellationToken))
            {
                if (dispatcher.Enqueue(subscription.Id, id))
                {
                    handed++;
                }
            }
        }
        if (handed > 0)
        {
            LogHanded(handed);
        }
        return handed;
    }

    /// <summary>Removes delivered and failed rows past their retention, at most <paramref name="max"/>; returns how many.</summary>
    public async Task<int> PruneAsync(int max, CancellationToken cancellationToken)
    {
        var before = time.GetUtcNow().AddDays(-options.Value.DeliveryRetentionDays);
        var removed = 0;
        foreach (var subscription in await store.AllAsync(cancellationToken))
        {
            if (removed >= max)
            {
                break;
            }
            removed += await store.PruneDeliveriesAsync(subscription.Id, before, max - removed, cancellationToken);
        }
        if (removed > 0)
        {
            LogPruned(removed, before);
        }
        return removed;
    }

    /// <summary>Removes what is left of deleted subscriptions' delivery rows, at most <paramref name="max"/>; returns how many.</summary>
    public async Task<int> FinishDeletionsAsync(int max, CancellationToken cancellationToken)
    {
        var removed = 0;
        foreach (var id in await store.DeletedAsync(10, cancellationToken))
        {
            var (count, done) = await store.FinishDeletingAsync(id, max - removed, cancellationToken);
            removed += count;
            if (!done || removed >= max)
            {
                break;
            }
        }
        return removed;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook sweep: {Count} overdue delivery(ies) handed to the dispatcher.")]
    private partial void LogHanded(int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook sweep: {Count} delivered or failed delivery row(s) from before {Before:O} removed.")]
    private partial void LogPruned(int count, DateTimeOffset before);
}
