using System.Text;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;

namespace Jobs.Functions.Webhooks;

/// <summary>
/// Turns a job's status change into the deliveries it owes: called by <see cref="JobProjector"/> before the all-jobs
/// transaction that settles the change (as the <c>job-events</c> message is), so a process that dies before that
/// transaction leaves the change unsettled and the reconciler announces it again. Each matching subscription's first
/// try is made here, before any row records it (<see cref="WebhookDispatcher.DeliverFirstAsync"/>), and its outcome is
/// the one write the event costs: the change it belongs to is what carries the work owed until then. A re-announcement
/// (<c>recheck</c>: the reconciler, a retried projection) first reads each delivery row and sends only what
/// no row records yet.
/// </summary>
public sealed class WebhookOutbox(WebhookStore store, JobCloudEvents cloudEvents, WebhookDispatcher dispatcher, TimeProvider time)
{
    /// <summary>
    /// Delivers what <paramref name="job"/>'s change owes. <paramref name="recheck"/>: the change may have been announced
    /// before (its projection is being finished by another writer than the one that made it), so deliveries already
    /// recorded are not sent again.
    /// </summary>
    public async Task AnnounceAsync(Job job, JobStamp stamp, bool recheck, CancellationToken cancellationToken)
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
        var id = WebhookStore.DeliveryId(job.Id, stamp.Seq, stamp.ChangedAt);
        if (recheck)
        {
            var recorded = await Task.WhenAll(subscriptions.Select(s => store.GetDeliveryAsync(s.Id, id, cancellationToken)));
            subscriptions = [.. subscriptions.Where((_, i) => recorded[i] is null)];
            if (subscriptions.Count == 0)
            {
                return;
            }
        }
        var body = Encoding.UTF8.GetString(cloudEvents.Encode(job, stamp.Seq, stamp.ChangedAt, eventName).Span);
        await Task.WhenAll(subscriptions.Select(subscription => dispatcher.DeliverFirstAsync(new WebhookDelivery
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
        }, subscription, cancellationToken)));
    }
}
