namespace Jobs.Functions.Webhooks;

/// <summary>The body of <c>POST /api/webhooks</c>.</summary>
/// <param name="Url">Where to POST events: https (plain http to a loopback host only where the service allows it).</param>
/// <param name="Events">The events wanted, each one of <see cref="WebhookEvents.All"/>.</param>
/// <param name="JobTypes">Only jobs of these types (null: every type).</param>
/// <param name="AllJobs">Every owner's jobs, not only the caller's: admins only.</param>
/// <param name="Description">A note for people, at most 200 characters.</param>
public sealed record WebhookSubscriptionRequest(string? Url, IReadOnlyList<string>? Events, IReadOnlyList<string>? JobTypes, bool AllJobs = false, string? Description = null);
