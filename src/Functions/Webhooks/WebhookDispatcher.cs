using System.Collections.Concurrent;
using System.Threading.Channels;
using Azure;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StandardWebhooks;

namespace Jobs.Functions.Webhooks;

/// <summary>
/// Sends this process's deliveries: each try signed as Standard Webhooks says (<c>webhook-id</c> = the event id, the
/// same on every try; <c>webhook-timestamp</c>; <c>webhook-signature: v1,{base64 HMAC-SHA256}</c>). An event's first try
/// is made before any row records it and its outcome is the row's first write (<see cref="DeliverFirstAsync"/>); a later
/// try's outcome is written to the row under the ETag it was read with, the next try kept in memory for the
/// back-off of <see cref="WebhookOptions.RetrySchedule"/>. After the last scheduled try fails the delivery is failed and
/// its subscription disabled with the reason; a manual retry is one extra try that never disables it.
/// <para>
/// A try is sent only under a claim (<see cref="WebhookDelivery.ClaimedUntil"/>) that outlasts it: the row just added or
/// made due by this process carries one; any other try (a scheduled retry, a row the sweep handed over, a row whose claim
/// is running short because it waited in the queue) first writes a fresh claim under the row's ETag, and a 412 means
/// another writer has it. A delivery is queued or in flight at most once in this process, the queue is bounded
/// (<see cref="MaxQueued"/>), and one subscription holds at most <see cref="MaxPerSubscription"/> places, so a slow
/// receiver cannot take every send slot from the others. What is refused here stays pending for the sweep.
/// </para>
/// </summary>
public sealed partial class WebhookDispatcher(
    WebhookStore store, WebhookHttp http, IOptions<WebhookOptions> options, TimeProvider time, ILogger<WebhookDispatcher> logger) : BackgroundService
{
    /// <summary>Tries in flight at once in this process.</summary>
    private const int MaxConcurrent = 16;

    /// <summary>Deliveries queued or in flight at once in this process.</summary>
    public const int MaxQueued = 1000;

    /// <summary>Places (queued or in flight) one subscription may hold in this process: a quarter of the send slots.</summary>
    public const int MaxPerSubscription = 4;

    private readonly Channel<Item> _due = Channel.CreateBounded<Item>(MaxQueued);
    private readonly ConcurrentDictionary<string, byte> _held = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _perSubscription = new(StringComparer.Ordinal);
    private readonly Lock _admit = new();
    private readonly SemaphoreSlim _slots = new(MaxConcurrent);
    private readonly IReadOnlyList<TimeSpan> _backoff = options.Value.Backoff();
    private readonly TimeSpan _claim = TimeSpan.FromSeconds(options.Value.SweepGraceSeconds);
    private readonly TimeSpan _tryTakes = TimeSpan.FromSeconds(options.Value.TimeoutSeconds + 1);
    private readonly TimeSpan _wait = TimeSpan.FromMilliseconds(options.Value.FirstTryWaitMilliseconds);
    private CancellationToken _stopping = CancellationToken.None;

    /// <summary>One delivery to try: as read or written with its ETag, or only its key (read when its turn comes).</summary>
    private sealed record Item(string SubscriptionId, string DeliveryId, WebhookDelivery? Delivery, ETag? ETag, bool Fresh);

    /// <summary>How long a claim written now lasts: <see cref="WebhookOptions.SweepGraceSeconds"/>.</summary>
    public DateTimeOffset ClaimFrom(DateTimeOffset now) => now + _claim;

    /// <summary>
    /// Tries <paramref name="delivery"/>, stored with <paramref name="etag"/> by this process, as soon as a slot is free.
    /// False when it is already queued or in flight here, or there is no room (it stays pending for the sweep).
    /// </summary>
    public bool Enqueue(WebhookDelivery delivery, ETag etag) => Admit(new Item(delivery.SubscriptionId, delivery.Id, delivery, etag, Fresh: true));

    /// <summary>Tries the delivery the sweep found overdue (read when its turn comes). False as for <see cref="Enqueue(WebhookDelivery, ETag)"/>.</summary>
    public bool Enqueue(string subscriptionId, string deliveryId) => Admit(new Item(subscriptionId, deliveryId, null, null, Fresh: false));

    private static string Key(string subscriptionId, string deliveryId) => subscriptionId + "/" + deliveryId;

    private bool Admit(Item item)
    {
        lock (_admit)
        {
            var key = Key(item.SubscriptionId, item.DeliveryId);
            if (_held.ContainsKey(key) || _perSubscription.GetValueOrDefault(item.SubscriptionId) >= MaxPerSubscription)
            {
                return false;
            }
            if (!_due.Writer.TryWrite(item))
            {
                return false;
            }
            _held[key] = 0;
            _perSubscription[item.SubscriptionId] = _perSubscription.GetValueOrDefault(item.SubscriptionId) + 1;
            return true;
        }
    }

    /// <summary>Holds a place for a try made outside the queue (an event's first): false when there is no room, as for <see cref="Admit"/>.</summary>
    private bool Reserve(Item item)
    {
        lock (_admit)
        {
            var key = Key(item.SubscriptionId, item.DeliveryId);
            if (_held.ContainsKey(key) || _held.Count >= MaxQueued || _perSubscription.GetValueOrDefault(item.SubscriptionId) >= MaxPerSubscription)
            {
                return false;
            }
            _held[key] = 0;
            _perSubscription[item.SubscriptionId] = _perSubscription.GetValueOrDefault(item.SubscriptionId) + 1;
            return true;
        }
    }

    private void Release(Item item)
    {
        lock (_admit)
        {
            _held.TryRemove(Key(item.SubscriptionId, item.DeliveryId), out _);
            var left = _perSubscription.GetValueOrDefault(item.SubscriptionId) - 1;
            if (left <= 0)
            {
                _perSubscription.TryRemove(item.SubscriptionId, out _);
            }
            else
            {
                _perSubscription[item.SubscriptionId] = left;
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        try
        {
            await foreach (var item in _due.Reader.ReadAllAsync(stoppingToken))
            {
                await _slots.WaitAsync(stoppingToken);
                _ = Task.Run(async () =>
                {
                    try
                    {
                        await TryAsync(item, stoppingToken);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                    {
                        // The row stays pending: the sweep tries it again once its claim lapses.
                        LogTryFailed(ex, item.SubscriptionId, item.DeliveryId);
                    }
                    finally
                    {
                        Release(item);
                        _slots.Release();
                    }
                }, CancellationToken.None);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: deliveries not tried yet stay pending for the sweep.
        }
    }

    private async Task<WebhookDelivery?> TryAsync(Item item, CancellationToken cancellationToken)
    {
        if (item.Delivery is { } delivery && item.ETag is { } etag)
        {
            return await TryDeliverAsync(delivery, etag, item.Fresh, cancellationToken);
        }
        if (await store.GetDeliveryAsync(item.SubscriptionId, item.DeliveryId, cancellationToken) is not { } read
            || read.Delivery.State != WebhookDeliveryState.Pending
            || read.Delivery.SweepAt > time.GetUtcNow())
        {
            return null; // tried, or claimed by someone else, since the sweep saw it
        }
        return await TryDeliverAsync(read.Delivery, read.ETag, fresh: false, cancellationToken);
    }

    /// <summary>
    /// One try of one delivery (stored with <paramref name="etag"/>), claimed first unless this process has just written
    /// it (<paramref name="fresh"/>) with a claim that outlasts the try; returns what was stored (null when another writer
    /// had changed the row).
    /// </summary>
    public async Task<WebhookDelivery?> TryDeliverAsync(WebhookDelivery delivery, ETag etag, bool fresh, CancellationToken cancellationToken)
    {
        if (delivery.State != WebhookDeliveryState.Pending)
        {
            return null;
        }
        // Read before the claim is judged, so the time left on it is the try's alone.
        var subscription = (await store.AllAsync(cancellationToken)).FirstOrDefault(s => s.Id == delivery.SubscriptionId)
            ?? await store.GetAsync(delivery.SubscriptionId, cancellationToken);
        var start = time.GetUtcNow();
        if (!fresh || delivery.ClaimedUntil is not { } until || until < start + _tryTakes)
        {
            var claimed = delivery with { ClaimedUntil = ClaimFrom(start) };
            if (await store.TryUpdateDeliveryAsync(delivery, claimed, etag, cancellationToken) is not { } claimedETag)
            {
                return null; // another instance, the sweep or a manual retry changed it: theirs to send
            }
            (delivery, etag) = (claimed, claimedETag);
        }
        var now = time.GetUtcNow();
        var result = await SendAsync(subscription, delivery, now, cancellationToken);
        var tried = Outcome(delivery, subscription, result, now, out var retryIn);
        if (await store.TryUpdateDeliveryAsync(delivery, tried, etag, cancellationToken) is not { } written)
        {
            return null;
        }
        await AfterAsync(delivery, tried, written, subscription, result, retryIn, cancellationToken);
        return tried;
    }

    /// <summary>
    /// The first try of an event for <paramref name="subscription"/>, made before any row records it: the caller (the
    /// projector, through <see cref="WebhookOutbox"/>) holds the change unsettled until this returns, so a process that
    /// dies before the outcome is written leaves the change for the reconciler, which announces it again. A try that
    /// answers within <see cref="WebhookOptions.FirstTryWaitMilliseconds"/> is recorded by one write, its outcome; one
    /// still running then gets its pending row (claimed by this process) first and its outcome over it later. With no room
    /// here for the try (<see cref="MaxQueued"/>, <see cref="MaxPerSubscription"/>) the pending row is written and left to
    /// the sweep, as a refused enqueue is.
    /// </summary>
    public async Task DeliverFirstAsync(WebhookDelivery pending, WebhookSubscription subscription, CancellationToken cancellationToken)
    {
        var item = new Item(pending.SubscriptionId, pending.Id, pending, null, Fresh: true);
        if (_wait <= TimeSpan.Zero || !Reserve(item))
        {
            if (await store.TryAddDeliveryAsync(pending, cancellationToken) is { } added)
            {
                Enqueue(pending, added);
            }
            return;
        }
        var released = false;
        try
        {
            var now = time.GetUtcNow();
            // The try and its outcome belong to this process, not to the caller: a request that made the change may end
            // before the receiver answers.
            var sending = SendAsync(subscription, pending, now, _stopping);
            var waited = await Task.WhenAny(sending, Task.Delay(_wait, time, cancellationToken));
            if (waited != sending)
            {
                // Slow receiver: the pending row first, so the change can settle, then the outcome over it.
                if (await store.TryAddDeliveryAsync(pending, cancellationToken) is not { } etag)
                {
                    return; // recorded by an earlier announcement of the same change: its writer delivers it
                }
                released = true;
                _ = FinishAsync(item, pending, etag, subscription, sending, now);
                return;
            }
            var result = await sending;
            var tried = Outcome(pending, subscription, result, now, out var retryIn);
            if (await store.TryAddDeliveryAsync(tried, cancellationToken) is { } written)
            {
                await AfterAsync(pending, tried, written, subscription, result, retryIn, _stopping);
            }
        }
        finally
        {
            if (!released)
            {
                Release(item);
            }
        }
    }

    /// <summary>Records the outcome of a first try that outlasted the wait, over the pending row written meanwhile.</summary>
    private async Task FinishAsync(Item item, WebhookDelivery pending, ETag etag, WebhookSubscription subscription, Task<WebhookAttemptResult> sending, DateTimeOffset at)
    {
        try
        {
            var result = await sending;
            var tried = Outcome(pending, subscription, result, at, out var retryIn);
            if (await store.TryUpdateDeliveryAsync(pending, tried, etag, _stopping) is { } written)
            {
                await AfterAsync(pending, tried, written, subscription, result, retryIn, _stopping);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !_stopping.IsCancellationRequested)
        {
            LogTryFailed(ex, item.SubscriptionId, item.DeliveryId);
        }
        catch (OperationCanceledException)
        {
            // Stopping: the pending row is claimed until its claim lapses, then the sweep tries it again.
        }
        finally
        {
            Release(item);
        }
    }

    /// <summary>Sends one try (or refuses it: the subscription gone or disabled, its address no longer allowed).</summary>
    private async Task<WebhookAttemptResult> SendAsync(WebhookSubscription? subscription, WebhookDelivery delivery, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (subscription is null)
        {
            return new WebhookAttemptResult(null, null, "the subscription was deleted", TimeSpan.Zero);
        }
        if (subscription.Disabled)
        {
            return new WebhookAttemptResult(null, null, "the subscription is disabled: " + subscription.DisabledReason, TimeSpan.Zero);
        }
        if (WebhookAddressGuard.CheckUrl(subscription.Url, options.Value.AllowLoopbackHttp, out var url) is { } refused)
        {
            return new WebhookAttemptResult(null, null, "url " + refused, TimeSpan.Zero);
        }
        var signature = new StandardWebhook(subscription.Secret).Sign(delivery.EventId, now, delivery.Body);
        return await http.PostAsync(url!, System.Text.Encoding.UTF8.GetBytes(delivery.Body), JobCloudEvents.ContentType,
        [
            new("webhook-id", delivery.EventId),
            new("webhook-timestamp", now.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("webhook-signature", signature),
            new("User-Agent", "Jobs-Webhooks/1"),
        ], cancellationToken);
    }

    /// <summary>The delivery after a try made at <paramref name="now"/>: delivered, pending its next try (<paramref name="retryIn"/>), or failed.</summary>
    private WebhookDelivery Outcome(WebhookDelivery delivery, WebhookSubscription? subscription, WebhookAttemptResult result, DateTimeOffset now, out TimeSpan? retryIn)
    {
        var attempts = delivery.Attempts + 1;
        var final = subscription is null || subscription.Disabled || delivery.Manual;
        retryIn = !result.Succeeded && !final && attempts <= _backoff.Count ? _backoff[attempts - 1] : null;
        return delivery with
        {
            Attempts = attempts,
            State = result.Succeeded ? WebhookDeliveryState.Delivered : retryIn is null ? WebhookDeliveryState.Failed : WebhookDeliveryState.Pending,
            ResponseCode = result.StatusCode,
            Response = result.Response,
            Error = result.Error,
            LatencyMs = (int)Math.Min(int.MaxValue, result.Latency.TotalMilliseconds),
            LastAttemptAt = now,
            NextTryAt = retryIn is { } wait ? now + wait : null,
            // Held by this process until the retry is due and a grace after it; the sweep takes it over only then.
            ClaimedUntil = retryIn is { } due ? ClaimFrom(now + due) : null,
            Manual = false,
        };
    }

    /// <summary>What follows a recorded try: its retry kept in memory, or the subscription disabled after the last one.</summary>
    private async Task AfterAsync(WebhookDelivery before, WebhookDelivery tried, ETag written, WebhookSubscription? subscription, WebhookAttemptResult result,
        TimeSpan? retryIn, CancellationToken cancellationToken)
    {
        if (retryIn is { } delay)
        {
            _ = RetryLaterAsync(tried, written, delay);
        }
        else if (tried.State == WebhookDeliveryState.Failed && !before.Manual && subscription is { Disabled: false })
        {
            var why = result.StatusCode is { } code ? $"answered {code}" : result.Error;
            await store.DisableAsync(subscription.Id,
                $"Delivery {tried.Id} ({tried.Event} of job {tried.JobId}) failed {tried.Attempts} time(s) over the whole retry schedule; the last try {why}.",
                cancellationToken);
            LogDisabled(subscription.Id, tried.Id);
        }
    }

    private async Task RetryLaterAsync(WebhookDelivery delivery, ETag etag, TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, time, _stopping);
            // Claimed again before it is sent (its claim ends a grace after now): a manual retry or the sweep meanwhile wins.
            Admit(new Item(delivery.SubscriptionId, delivery.Id, delivery, etag, Fresh: false));
        }
        catch (OperationCanceledException)
        {
            // Stopping: the sweep takes it over once its claim lapses.
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook {SubscriptionId}: a try of delivery {DeliveryId} failed before it was recorded; the sweep will try it again.")]
    private partial void LogTryFailed(Exception exception, string subscriptionId, string deliveryId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook {SubscriptionId} disabled: delivery {DeliveryId} failed over its whole retry schedule.")]
    private partial void LogDisabled(string subscriptionId, string deliveryId);
}
