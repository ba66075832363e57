using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;

namespace Jobs.Client;

/// <summary>A webhook subscription. <see cref="Secret"/> is set only on the answer to its creation: keep it then.</summary>
public sealed record Webhook(
    string Id, string Url, IReadOnlyList<string> Events, IReadOnlyList<string>? JobTypes, bool AllJobs, string? Description, string Owner,
    DateTimeOffset CreatedAt, bool Disabled, string? DisabledReason, DateTimeOffset? DisabledAt, string DeliveriesUri, string? Secret)
{
    /// <summary>When an <see cref="AllJobs"/> subscription stops receiving other owners' jobs (subscribe again, as an admin, to go on).</summary>
    public DateTimeOffset? AllJobsUntil { get; init; }
}

/// <summary>What to subscribe to: events of <see cref="WebhookEventNames"/>, optionally of some job types only.</summary>
public sealed record CreateWebhookRequest(string Url, IReadOnlyList<string> Events, IReadOnlyList<string>? JobTypes = null, bool AllJobs = false, string? Description = null);

/// <summary>A delivery's state: <c>pending</c> (a try is due at <see cref="WebhookDelivery.NextTryAt"/>), <c>delivered</c>, <c>failed</c>.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<WebhookDeliveryState>))]
public enum WebhookDeliveryState
{
    [JsonStringEnumMemberName("pending")] Pending,
    [JsonStringEnumMemberName("delivered")] Delivered,
    [JsonStringEnumMemberName("failed")] Failed,
}

/// <summary>One event owed to a subscription and what its tries got (at most 1 KB of the last response is kept).</summary>
public sealed record WebhookDelivery(
    string Id, string SubscriptionId, string EventId, string Event, string JobId, WebhookDeliveryState State, int Attempts, int? ResponseCode,
    string? Response, string? Error, int? LatencyMs, DateTimeOffset CreatedAt, DateTimeOffset? LastAttemptAt, DateTimeOffset? NextTryAt);

/// <summary>A page of deliveries, newest first; <see cref="Next"/> is the <c>after</c> of the next page.</summary>
public sealed record WebhookDeliveryPage(IReadOnlyList<WebhookDelivery> Items, string? Next);

internal sealed record WebhookList(IReadOnlyList<Webhook> Items);

/// <summary>The events a subscription can ask for.</summary>
public static class WebhookEventNames
{
    public const string Started = "job.started";
    public const string Completed = "job.completed";
    public const string Failed = "job.failed";
    public const string Cancelled = "job.cancelled";
    public const string TimedOut = "job.timed_out";

    /// <summary>A running job's progress, at most one per job per <c>Jobs:Webhooks:ProgressIntervalSeconds</c> (10 s).</summary>
    public const string Progress = "job.progress";
}

/// <summary>
/// Verifies a webhook request as the Standard Webhooks specification says: the HMAC-SHA256, keyed with the secret's
/// bytes (<c>whsec_{base64}</c>), of <c>{webhook-id}.{webhook-timestamp}.{body}</c>, base64, must be one of the
/// <c>v1,…</c> signatures of <c>webhook-signature</c> (compared in constant time), and the timestamp within
/// <c>tolerance</c> (5 minutes) of now, so a recorded request cannot be replayed later. Pass the body exactly as
/// received, before any JSON parsing.
/// </summary>
public static class WebhookSignature
{
    public static readonly TimeSpan DefaultTolerance = TimeSpan.FromMinutes(5);

    /// <summary>True when the request is genuine and fresh; <paramref name="reason"/> says why not otherwise.</summary>
    public static bool Verify(string secret, string? webhookId, string? webhookTimestamp, string? webhookSignature, string body,
        out string? reason, TimeSpan? tolerance = null, DateTimeOffset? now = null)
    {
        reason = null;
        if (string.IsNullOrEmpty(webhookId) || string.IsNullOrEmpty(webhookTimestamp) || string.IsNullOrEmpty(webhookSignature))
        {
            reason = "a webhook-id, webhook-timestamp or webhook-signature header is missing";
            return false;
        }
        if (!long.TryParse(webhookTimestamp, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds))
        {
            reason = "webhook-timestamp is not a number of seconds";
            return false;
        }
        if (seconds > DateTimeOffset.MaxValue.ToUnixTimeSeconds())
        {
            reason = "the timestamp is too far in the future";
            return false;
        }
        var age = (now ?? DateTimeOffset.UtcNow) - DateTimeOffset.FromUnixTimeSeconds(seconds);
        if (age.Duration() > (tolerance ?? DefaultTolerance))
        {
            reason = age > TimeSpan.Zero ? "the timestamp is too old" : "the timestamp is too far in the future";
            return false;
        }
        var expected = Encoding.ASCII.GetBytes(Sign(secret, webhookId, seconds, body));
        foreach (var candidate in webhookSignature.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var comma = candidate.IndexOf(',', StringComparison.Ordinal);
            if (comma > 0 && candidate[..comma] == "v1"
                && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(candidate[(comma + 1)..]), expected))
            {
                return true;
            }
        }
        reason = "no signature matches";
        return false;
    }

    /// <summary>The base64 <c>v1</c> signature of a message (without the <c>v1,</c> prefix).</summary>
    public static string Sign(string secret, string webhookId, long timestampSeconds, string body)
    {
        var key = Convert.FromBase64String(secret.StartsWith("whsec_", StringComparison.Ordinal) ? secret["whsec_".Length..] : secret);
        var content = Encoding.UTF8.GetBytes($"{webhookId}.{timestampSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}.{body}");
        return Convert.ToBase64String(HMACSHA256.HashData(key, content));
    }
}
