using System.Collections.Concurrent;
using System.Text;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Jobs.Functions.Webhooks;

/// <summary>
/// Turns a job's status change into the deliveries it owes: called by <see cref="JobProjector"/> before the all-jobs
/// transaction that settles the change (as the <c>job-events</c> message is), so a process that dies before that
/// transaction leaves the change unsettled and the reconciler announces it again. Each matching subscription's first
/// try is made here, before any row records it (<see cref="WebhookDispatcher.DeliverFirstAsync"/>), and its outcome is
/// the one write the event costs: the change it belongs to is what carries the work owed until then. A re-announcement
/// (<c>recheck</c>: the reconciler, a retried projection) first reads each delivery row and sends only what
/// no row records yet.
/// <para>
/// <c>job.progress</c> (<see cref="AnnounceProgress"/>) is not a status change and has no outbox row: it is sent from the
/// write that changed a running job's progress, at most once per job per <see cref="WebhookOptions.ProgressIntervalSeconds"/>
/// in this process, without holding that write; a process that dies before its outcome is written loses it, as the next
/// progress or the ending replaces it. Its id is the job and the interval's window, so its tries share one
/// <c>webhook-id</c>, and one delivery row per window and subscription is ever written (an <c>Add</c>).
/// </para>
/// </summary>
public sealed partial class WebhookOutbox(
    WebhookStore store, JobCloudEvents cloudEvents, WebhookDispatcher dispatcher, IOptions<WebhookOptions> options, TimeProvider time, ILogger<WebhookOutbox> logger)
{
    /// <summary>Jobs whose progress this process announced, and when (the throttle); bounded, forgotten at the job's end.</summary>
    private readonly ConcurrentDictionary<string, DateTimeOffset> _progressSent = new(StringComparer.Ordinal);

    private const int MaxProgressTracked = 10_000;

    private readonly TimeSpan _progressInterval = TimeSpan.FromSeconds(options.Value.ProgressIntervalSeconds);

    /// <summary>
    /// Delivers what <paramref name="job"/>'s change from <paramref name="from"/> (the status its all-jobs rows show, null
    /// for none) owes: a job back from <c>waiting</c> is no new <c>job.started</c> (<see cref="WebhookEvents.Of"/>).
    /// <paramref name="recheck"/>: the change may have been announced before (its projection is being finished by another
    /// writer than the one that made it), so deliveries already recorded are not sent again.
    /// </summary>
    public async Task AnnounceAsync(Job job, JobStatus? from, JobStamp stamp, bool recheck, CancellationToken cancellationToken)
    {
        if (job.Status.IsTerminal())
        {
            _progressSent.TryRemove(job.Id, out _);
        }
        if (WebhookEvents.Of(from, job.Status) is not { } eventName)
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

    /// <summary>
    /// A running job's progress changed (its record written): sends <c>job.progress</c> to the subscriptions that want
    /// it, unless this process sent one for the job less than <see cref="WebhookOptions.ProgressIntervalSeconds"/> ago.
    /// Returns at once: the write that reported the progress does not wait for the receivers.
    /// </summary>
    public void AnnounceProgress(Job job)
    {
        if (job.Status != JobStatus.Running)
        {
            return;
        }
        var now = time.GetUtcNow();
        var window = now.ToUnixTimeSeconds() / (long)_progressInterval.TotalSeconds;
        var windowStart = DateTimeOffset.FromUnixTimeSeconds(window * (long)_progressInterval.TotalSeconds);
        if (_progressSent.TryGetValue(job.Id, out var last) && (now - last < _progressInterval || last >= windowStart))
        {
            return;
        }
        if (_progressSent.Count >= MaxProgressTracked)
        {
            _progressSent.Clear(); // jobs that ended elsewhere: at worst one event sooner than the interval
        }
        _progressSent[job.Id] = now;
        _ = Task.Run(async () =>
        {
            try
            {
                await DeliverProgressAsync(job, window, windowStart, now);
            }
            catch (Exception ex)
            {
                LogProgressFailed(ex, job.Id);
            }
        });
    }

    private async Task DeliverProgressAsync(Job job, long window, DateTimeOffset windowStart, DateTimeOffset now)
    {
        var subscriptions = (await store.AllAsync(CancellationToken.None)).Where(s => s.Wants(WebhookEvents.Progress, job.Owner, job.Type, now)).ToList();
        if (subscriptions.Count == 0)
        {
            return;
        }
        var eventId = JobCloudEvents.ProgressEventId(job.Id, window);
        var body = Encoding.UTF8.GetString(cloudEvents.Encode(job, eventId, now, WebhookEvents.Progress).Span);
        // Keyed by the window, as a status change's delivery is by its change: one row per window and subscription.
        var id = WebhookStore.DeliveryId(job.Id, (int)(window % 1_000_000_000), windowStart);
        await Task.WhenAll(subscriptions.Select(subscription => dispatcher.DeliverFirstAsync(new WebhookDelivery
        {
            Id = id,
            SubscriptionId = subscription.Id,
            EventId = eventId,
            Event = WebhookEvents.Progress,
            JobId = job.Id,
            State = WebhookDeliveryState.Pending,
            CreatedAt = now,
            NextTryAt = now,
            ClaimedUntil = dispatcher.ClaimFrom(now),
            Body = body,
        }, subscription, CancellationToken.None)));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId}: its job.progress event could not be sent; the next progress or the ending replaces it.")]
    private partial void LogProgressFailed(Exception exception, string jobId);
}
