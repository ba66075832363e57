using Jobs.Functions.Webhooks;
using Jobs.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.IntegrationTests.Webhooks;

/// <summary>
/// The dispatcher under contention (review of issue 27): a try is sent only under a claim written with the row's ETag,
/// and one delivery is queued at most once per process, within a bounded share per subscription.
/// </summary>
[Collection(WebhookRunnerCollection.Name)]
public sealed class WebhookDispatchTests(WebhookRunnerFixture runner) : IAsyncLifetime
{
    private WebhookReceiver _receiver = null!;

    private WebhookStore Store => runner.Services.GetRequiredService<WebhookStore>();

    public async Task InitializeAsync() => _receiver = await WebhookReceiver.StartAsync();

    public async Task DisposeAsync() => await _receiver.DisposeAsync();

    [Fact]
    public async Task ATryWhoseRowAnotherWriterClaimed_IsNotSent()
    {
        var subscription = await SubscribeAsync("claimed");
        var now = DateTimeOffset.UtcNow;
        var jobId = Guid.NewGuid().ToString("N");
        var delivery = new WebhookDelivery
        {
            Id = WebhookStore.DeliveryId(jobId, 1, now), SubscriptionId = subscription, EventId = jobId + "-1", Event = WebhookEvents.Completed,
            JobId = jobId, State = WebhookDeliveryState.Pending, CreatedAt = now, NextTryAt = now, ClaimedUntil = now.AddSeconds(-1), Body = "{}",
        };
        var etag = (await Store.TryAddDeliveryAsync(delivery, default))!.Value;
        // Another instance (or the sweep) claims it first, as a slow queue here would let it.
        Assert.NotNull(await Store.TryUpdateDeliveryAsync(delivery, delivery with { ClaimedUntil = now.AddMinutes(1) }, etag, default));
        var dispatcher = runner.Services.GetRequiredService<WebhookDispatcher>();

        var tried = await dispatcher.TryDeliverAsync(delivery, etag, fresh: false, default);

        Assert.Null(tried);
        Assert.Empty(await _receiver.ReceivedAsync("claimed"));
        var stored = (await Store.GetDeliveryAsync(subscription, delivery.Id, default))!.Value.Delivery;
        Assert.Equal((WebhookDeliveryState.Pending, 0), (stored.State, stored.Attempts));
    }

    [Fact]
    public void ADeliveryAlreadyQueued_IsNotQueuedAgain_AndOneSubscriptionHoldsABoundedShare()
    {
        // A dispatcher that is not running: what it admits stays queued.
        var dispatcher = ActivatorUtilities.CreateInstance<WebhookDispatcher>(runner.Services);
        var slow = Guid.NewGuid().ToString("N");
        var other = Guid.NewGuid().ToString("N");

        Assert.True(dispatcher.Enqueue(slow, "d0"));
        Assert.False(dispatcher.Enqueue(slow, "d0")); // the sweep finding it again while it waits: no second copy
        for (var i = 1; i < WebhookDispatcher.MaxPerSubscription; i++)
        {
            Assert.True(dispatcher.Enqueue(slow, "d" + i));
        }
        Assert.False(dispatcher.Enqueue(slow, "one-more")); // left pending for a later sweep
        Assert.True(dispatcher.Enqueue(other, "d0"));       // the others still get places
    }

    private async Task<string> SubscribeAsync(string hook)
    {
        var subscription = new WebhookSubscription
        {
            Id = Guid.NewGuid().ToString("N"), Owner = "whd-" + Guid.NewGuid().ToString("N")[..8], Url = _receiver.UrlOf(hook),
            Events = [WebhookEvents.Completed], CreatedAt = DateTimeOffset.UtcNow, Secret = "whsec_" + Convert.ToBase64String(new byte[32]),
        };
        await Store.AddAsync(subscription, default);
        await _receiver.ConfigureAsync(hook, subscription.Secret);
        return subscription.Id;
    }
}
