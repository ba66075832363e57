using Jobs.Functions.Identity;
using Jobs.Functions.Webhooks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace Jobs.Functions.Api;

/// <summary>What the API shows of a subscription; <see cref="Secret"/> only in the answer to its creation.</summary>
public sealed record WebhookView(
    string Id, string Url, IReadOnlyList<string> Events, IReadOnlyList<string>? JobTypes, bool AllJobs, DateTimeOffset? AllJobsUntil, string? Description, string Owner,
    DateTimeOffset CreatedAt, bool Disabled, string? DisabledReason, DateTimeOffset? DisabledAt, string DeliveriesUri, string? Secret = null)
{
    public static WebhookView Of(WebhookSubscription s, string baseUrl, bool withSecret = false) =>
        new(s.Id, s.Url, s.Events, s.JobTypes, s.AllJobs, s.AllJobsUntil, s.Description, s.Owner, s.CreatedAt, s.Disabled, s.DisabledReason, s.DisabledAt,
            $"{baseUrl}/api/webhooks/{s.Id}/deliveries", withSecret ? s.Secret : null);
}

/// <summary>The caller's subscriptions.</summary>
public sealed record WebhookList(IReadOnlyList<WebhookView> Items);

/// <summary>A page of a subscription's deliveries, newest first; <c>next</c> is the <c>after</c> of the following page.</summary>
public sealed record WebhookDeliveryPage(IReadOnlyList<WebhookDelivery> Items, string? Next);

/// <summary>
/// Webhook subscriptions (<c>/api/webhooks</c>): create (201, with the signing secret shown this once), list the
/// caller's, read, delete (204), the delivery log (<c>/deliveries</c>, newest first) and a manual retry of one delivery
/// (202: it is tried at once; a delivered or failed one gets one extra try that never disables the subscription). A subscription is its owner's; admins may read any.
/// </summary>
public sealed class WebhookFunctions(ApiGuard guard, WebhookSubscriptions subscriptions, WebhookStore store, WebhookDispatcher dispatcher,
    PublicUrls urls, TimeProvider time)
{
    public const int MaxDeliveriesPage = 100;

    /// <summary>Delivery rows a delete removes itself; the sweep removes the rest.</summary>
    public const int MaxDeliveriesDeletedPerCall = 1000;

    [Function(nameof(CreateWebhook))]
    public Task<IActionResult> CreateWebhook(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "webhooks")] HttpRequest request) =>
        guard.RunAsync(request, [], async caller =>
        {
            var body = await RequestBody.ReadAsync<WebhookSubscriptionRequest>(request, request.HttpContext.RequestAborted);
            var created = await subscriptions.CreateAsync(body, caller, request.HttpContext.RequestAborted);
            var baseUrl = urls.BaseUrl(request);
            return new ApiResult(StatusCodes.Status201Created, WebhookView.Of(created, baseUrl, withSecret: true))
                .WithHeader("Location", $"{baseUrl}/api/webhooks/{created.Id}")
                .WithHeader("Cache-Control", "no-store");
        });

    [Function(nameof(ListWebhooks))]
    public Task<IActionResult> ListWebhooks(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "webhooks")] HttpRequest request) =>
        guard.RunAsync(request, [], async caller =>
        {
            var baseUrl = urls.BaseUrl(request);
            var mine = await store.ListAsync(caller.Id, request.HttpContext.RequestAborted);
            return ApiResult.Ok(new WebhookList([.. mine.Select(s => WebhookView.Of(s, baseUrl))]));
        });

    [Function(nameof(GetWebhook))]
    public Task<IActionResult> GetWebhook(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "webhooks/{id}")] HttpRequest request, string id) =>
        guard.RunAsync(request, [], async caller =>
        {
            var subscription = await VisibleAsync(id, caller, request.HttpContext.RequestAborted);
            return ApiResult.Ok(WebhookView.Of(subscription, urls.BaseUrl(request)));
        });

    [Function(nameof(DeleteWebhook))]
    public Task<IActionResult> DeleteWebhook(
        [HttpTrigger(AuthorizationLevel.Function, "delete", Route = "webhooks/{id}")] HttpRequest request, string id) =>
        guard.RunAsync(request, [], async caller =>
        {
            var subscription = await VisibleAsync(id, caller, request.HttpContext.RequestAborted);
            await store.DeleteAsync(subscription.Id, MaxDeliveriesDeletedPerCall, request.HttpContext.RequestAborted);
            return new ApiResult(StatusCodes.Status204NoContent, null);
        });

    [Function(nameof(ListWebhookDeliveries))]
    public Task<IActionResult> ListWebhookDeliveries(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = "webhooks/{id}/deliveries")] HttpRequest request, string id) =>
        guard.RunAsync(request, ["limit", "after"], async caller =>
        {
            var limit = QueryParameters.Int(request, "limit", 20, 1, MaxDeliveriesPage);
            var after = QueryParameters.Single(request, "after");
            if (after is not null && !WebhookStore.IsDeliveryId(after))
            {
                throw ApiProblemException.BadParameter("after", "must be a delivery id from a previous page's next");
            }
            var subscription = await VisibleAsync(id, caller, request.HttpContext.RequestAborted);
            var (page, next) = await store.ListDeliveriesAsync(subscription.Id, limit, after, request.HttpContext.RequestAborted);
            return ApiResult.Ok(new WebhookDeliveryPage(page, next)).WithHeader("Cache-Control", "no-store");
        });

    [Function(nameof(RetryWebhookDelivery))]
    public Task<IActionResult> RetryWebhookDelivery(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "webhooks/{id}/deliveries/{deliveryId}/retry")] HttpRequest request,
        string id, string deliveryId) =>
        guard.RunAsync(request, [], async caller =>
        {
            if (!WebhookStore.IsDeliveryId(deliveryId))
            {
                throw ApiProblemException.BadParameter("deliveryId", "is not a delivery id");
            }
            var subscription = await VisibleAsync(id, caller, request.HttpContext.RequestAborted);
            if (subscription.Disabled)
            {
                throw ApiProblemException.Conflict($"Webhook {subscription.Id} is disabled ({subscription.DisabledReason}); create a new subscription.");
            }
            var found = await store.GetDeliveryAsync(subscription.Id, deliveryId, request.HttpContext.RequestAborted)
                ?? throw ApiProblemException.NotFound($"Delivery {deliveryId}");
            var now = time.GetUtcNow();
            if (found.Delivery is { State: WebhookDeliveryState.Pending } pending && pending.NextTryAt <= now && pending.ClaimedUntil > now)
            {
                throw ApiProblemException.Conflict($"Delivery {deliveryId} is being tried now; ask again once the log shows its outcome.");
            }
            // A delivered or failed delivery gets one extra try (a manual one: it never continues the schedule nor disables
            // the subscription); a pending one has its next scheduled try brought forward. This process sends it.
            var due = found.Delivery with
            {
                State = WebhookDeliveryState.Pending,
                NextTryAt = now,
                ClaimedUntil = dispatcher.ClaimFrom(now),
                Manual = found.Delivery.State != WebhookDeliveryState.Pending,
            };
            var etag = await store.TryUpdateDeliveryAsync(found.Delivery, due, found.ETag, request.HttpContext.RequestAborted)
                ?? throw ApiProblemException.Conflict($"Delivery {deliveryId} changed meanwhile (a try was being recorded); ask again.");
            dispatcher.Enqueue(due, etag);
            return new ApiResult(StatusCodes.Status202Accepted, due);
        });

    private async Task<WebhookSubscription> VisibleAsync(string id, Caller caller, CancellationToken cancellationToken)
    {
        if (!WebhookStore.IsSubscriptionId(id))
        {
            throw ApiProblemException.BadParameter("id", "must be 32 lowercase hex characters");
        }
        var subscription = await store.GetAsync(id, cancellationToken);
        return subscription is not null && caller.CanAccess(subscription.Owner) ? subscription : throw ApiProblemException.NotFound($"Webhook {id}");
    }
}
