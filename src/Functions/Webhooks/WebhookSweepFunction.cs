using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Jobs.Functions.Webhooks;

/// <summary>
/// Timer (every minute): the backstop of at-least-once delivery. A pending delivery whose next try is overdue by more
/// than <see cref="WebhookOptions.SweepGraceSeconds"/> — its process died between announcing and delivering, or before
/// a retry — is handed to this process's <see cref="WebhookDispatcher"/>. Per run: one subscriptions read (cached) and
/// one filtered range read per enabled subscription.
/// </summary>
public sealed partial class WebhookSweepFunction(WebhookStore store, WebhookDispatcher dispatcher, IOptions<WebhookOptions> options, TimeProvider time,
    ILogger<WebhookSweepFunction> logger)
{
    /// <summary>A literal schedule (see <c>TimeoutSweepFunction.Schedule</c>); the local runner can override it for tests.</summary>
    public const string Schedule = "30 */1 * * * *";

    private const int MaxPerSubscription = 100;

    [Function(nameof(DeliverOverdueWebhooks))]
    public async Task DeliverOverdueWebhooks([TimerTrigger(Schedule)] TimerInfo timer, CancellationToken cancellationToken) =>
        await SweepAsync(cancellationToken);

    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var before = time.GetUtcNow().AddSeconds(-options.Value.SweepGraceSeconds);
        var handed = 0;
        foreach (var subscription in await store.AllAsync(cancellationToken))
        {
            if (subscription.Disabled)
            {
                continue;
            }
            foreach (var (delivery, etag) in await store.OverdueAsync(subscription.Id, before, MaxPerSubscription, cancellationToken))
            {
                dispatcher.Enqueue(delivery, etag);
                handed++;
            }
        }
        if (handed > 0)
        {
            LogHanded(handed);
        }
        return handed;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook sweep: {Count} overdue delivery(ies) handed to the dispatcher.")]
    private partial void LogHanded(int count);
}
