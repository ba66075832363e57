using System.Text;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;

namespace Jobs.Functions.Webhooks;

/// <summary>
/// Turns a job's status change into the deliveries it owes: called by <see cref="JobProjector"/> before the all-jobs
/// transaction that settles the change (as the <c>job-events</c> message is), so a process that dies before that
/// transaction leaves the change unsettled and the reconciler announces it again; announcing twice finds the delivery
/// rows there and adds none. Each matching subscription gets one pending <see cref="WebhookDelivery"/> row (one
/// write), handed to the <see cref="WebhookDispatcher"/> of this process; the sweep (<see cref="WebhookSweepFunction"/>)
/// takes over rows whose process died before delivering.
/// </summary>
public sealed class WebhookOutbox(WebhookStore store, JobCloudEvents cloudEvents, WebhookDispatcher dispatcher, TimeProvider time)
{
    public async Task AnnounceAsync(Job job, JobStamp stamp, CancellationToken cancellationToken)
    {
        if (WebhookEvents.Of(null, job.Status) is not { } eventName)
        {
            return;
        }
        var now = time.GetUtcNow();
        var subscriptions = (await store.AllAsync(cancellationToken)).Where(s => s.Wants(eventName, job.Owner, job.Type, now)).ToList();
        if (subscriptions.Count == 0)
        {
            return;
        }
        var body = Encoding.UTF8.GetString(cloudEvents.Encode(job, stamp.Seq, stamp.ChangedAt, eventName).Span);
        var id = WebhookStore.DeliveryId(job.Id, stamp.Seq, stamp.ChangedAt);
        var deliveries = subscriptions.Select(subscription => new WebhookDelivery
        {
            Id = id,
            SubscriptionId = subscription.Id,
            EventId = JobCloudEvents.EventId(job.Id, stamp.Seq),
            Event = eventName,
            JobId = job.Id,
            State = WebhookDeliveryState.Pending,
            CreatedAt = now,
            NextTryAt = now,
            ClaimedUntil = dispatcher.ClaimFrom(now), // this process sends the first try; the sweep only after the claim
            Body = body,
        }).ToList();
        // Every row first, then the tries: a receiver never hears of the event before all that owe it are recorded.
        var added = await Task.WhenAll(deliveries.Select(d => store.TryAddDeliveryAsync(d, cancellationToken)));
        for (var i = 0; i < deliveries.Count; i++)
        {
            if (added[i] is { } etag)
            {
                dispatcher.Enqueue(deliveries[i], etag);
            }
        }
    }
}
