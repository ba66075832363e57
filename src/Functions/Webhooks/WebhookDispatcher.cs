using System.Threading.Channels;
using Azure;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StandardWebhooks;

namespace Jobs.Functions.Webhooks;

/// <summary>
/// Sends this process's deliveries: each try signed as Standard Webhooks says (<c>webhook-id</c> = the event id, the
/// same on every try; <c>webhook-timestamp</c>; <c>webhook-signature: v1,{base64 HMAC-SHA256}</c>), its outcome written
/// to the delivery's row under the ETag it was read with (one write per try), the next try kept in memory for the
/// back-off of <see cref="WebhookOptions.RetrySchedule"/>. After the last try fails the delivery is failed and its
/// subscription disabled with the reason. A try another writer got to first (the sweep, a manual retry: 412) is left to
/// it.
/// </summary>
public sealed partial class WebhookDispatcher(
    WebhookStore store, WebhookHttp http, IOptions<WebhookOptions> options, TimeProvider time, ILogger<WebhookDispatcher> logger) : BackgroundService
{
    /// <summary>Tries in flight at once in this process.</summary>
    private const int MaxConcurrent = 16;

    private readonly Channel<(WebhookDelivery Delivery, ETag ETag)> _due = Channel.CreateUnbounded<(WebhookDelivery, ETag)>();
    private readonly SemaphoreSlim _slots = new(MaxConcurrent);
    private readonly IReadOnlyList<TimeSpan> _backoff = options.Value.Backoff();
    private CancellationToken _stopping = CancellationToken.None;

    /// <summary>Tries <paramref name="delivery"/> (stored with <paramref name="etag"/>) as soon as a slot is free.</summary>
    public void Enqueue(WebhookDelivery delivery, ETag etag) => _due.Writer.TryWrite((delivery, etag));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        try
        {
            await foreach (var (delivery, etag) in _due.Reader.ReadAllAsync(stoppingToken))
            {
                await _slots.WaitAsync(stoppingToken);
                _ = Task.Run(async () =>
                {
                    try
                    {
                        await TryDeliverAsync(delivery, etag, stoppingToken);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                    {
                        // The row stays pending: the sweep tries it again after its grace.
                        LogTryFailed(ex, delivery.SubscriptionId, delivery.Id);
                    }
                    finally
                    {
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

    /// <summary>One try of one delivery; returns what was stored (null when another writer had changed the row).</summary>
    public async Task<WebhookDelivery?> TryDeliverAsync(WebhookDelivery delivery, ETag etag, CancellationToken cancellationToken)
    {
        var subscription = (await store.AllAsync(cancellationToken)).FirstOrDefault(s => s.Id == delivery.SubscriptionId)
            ?? await store.GetAsync(delivery.SubscriptionId, cancellationToken);
        var now = time.GetUtcNow();
        WebhookAttemptResult result;
        if (subscription is null)
        {
            result = new WebhookAttemptResult(null, null, "the subscription was deleted", TimeSpan.Zero);
        }
        else if (subscription.Disabled)
        {
            result = new WebhookAttemptResult(null, null, "the subscription is disabled: " + subscription.DisabledReason, TimeSpan.Zero);
        }
        else if (WebhookAddressGuard.CheckUrl(subscription.Url, options.Value.AllowLoopbackHttp, out var url) is { } refused)
        {
            result = new WebhookAttemptResult(null, null, "url " + refused, TimeSpan.Zero);
        }
        else
        {
            var signature = new StandardWebhook(subscription.Secret).Sign(delivery.EventId, now, delivery.Body);
            result = await http.PostAsync(url!, System.Text.Encoding.UTF8.GetBytes(delivery.Body), JobCloudEvents.ContentType,
            [
                new("webhook-id", delivery.EventId),
                new("webhook-timestamp", now.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture)),
                new("webhook-signature", signature),
                new("User-Agent", "Jobs-Webhooks/1"),
            ], cancellationToken);
        }
        var attempts = delivery.Attempts + 1;
        var final = subscription is null || subscription.Disabled;
        var retryIn = !result.Succeeded && !final && attempts <= _backoff.Count ? _backoff[attempts - 1] : (TimeSpan?)null;
        var tried = delivery with
        {
            Attempts = attempts,
            State = result.Succeeded ? WebhookDeliveryState.Delivered : retryIn is null ? WebhookDeliveryState.Failed : WebhookDeliveryState.Pending,
            ResponseCode = result.StatusCode,
            Response = result.Response,
            Error = result.Error,
            LatencyMs = (int)Math.Min(int.MaxValue, result.Latency.TotalMilliseconds),
            LastAttemptAt = now,
            NextTryAt = retryIn is { } wait ? now + wait : null,
        };
        if (await store.TryUpdateDeliveryAsync(tried, etag, cancellationToken) is not { } written)
        {
            return null;
        }
        if (retryIn is { } delay)
        {
            _ = RetryLaterAsync(tried, written, delay);
        }
        else if (tried.State == WebhookDeliveryState.Failed && subscription is { Disabled: false })
        {
            var why = result.StatusCode is { } code ? $"answered {code}" : result.Error;
            await store.DisableAsync(subscription.Id,
                $"Delivery {tried.Id} ({tried.Event} of job {tried.JobId}) failed {attempts} time(s) over the whole retry schedule; the last try {why}.",
                cancellationToken);
            LogDisabled(subscription.Id, tried.Id);
        }
        return tried;
    }

    private async Task RetryLaterAsync(WebhookDelivery delivery, ETag etag, TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, time, _stopping);
            Enqueue(delivery, etag);
        }
        catch (OperationCanceledException)
        {
            // Stopping: the sweep takes it over once it is overdue.
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook {SubscriptionId}: a try of delivery {DeliveryId} failed before it was recorded; the sweep will try it again.")]
    private partial void LogTryFailed(Exception exception, string subscriptionId, string deliveryId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook {SubscriptionId} disabled: delivery {DeliveryId} failed over its whole retry schedule.")]
    private partial void LogDisabled(string subscriptionId, string deliveryId);
}
