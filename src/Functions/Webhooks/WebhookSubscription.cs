namespace Jobs.Functions.Webhooks;

/// <summary>
/// A subscription: where to send which events of whose jobs. <see cref="AllJobs"/> (admins only) receives every owner's
/// jobs until <see cref="AllJobsUntil"/>, then only <see cref="Owner"/>'s, as one without it: roles are known only from
/// a request's principal, so the service cannot tell at delivery whether the owner is still an admin, and an all-jobs
/// scope lasts only as long as an admin's confirmation (<see cref="WebhookOptions.AllJobsDays"/>). <see cref="JobTypes"/> null: every type. A subscription whose deliveries
/// keep failing is <see cref="Disabled"/> with the reason; it then receives nothing.
/// </summary>
public sealed record WebhookSubscription
{
    public required string Id { get; init; }
    public required string Owner { get; init; }
    public required string Url { get; init; }
    public required IReadOnlyList<string> Events { get; init; }
    public IReadOnlyList<string>? JobTypes { get; init; }
    public bool AllJobs { get; init; }

    /// <summary>When the all-jobs scope, confirmed by an admin at creation, lapses; null without it.</summary>
    public DateTimeOffset? AllJobsUntil { get; init; }
    public string? Description { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public bool Disabled { get; init; }
    public string? DisabledReason { get; init; }
    public DateTimeOffset? DisabledAt { get; init; }

    /// <summary>The signing secret (<c>whsec_</c> + base64 of 32 random bytes): shown once, at creation; never serialized otherwise.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public required string Secret { get; init; }

    /// <summary>Whether <paramref name="eventName"/> of a job of <paramref name="owner"/> and <paramref name="jobType"/>, at <paramref name="now"/>, goes to this subscription.</summary>
    public bool Wants(string eventName, string owner, string jobType, DateTimeOffset now) =>
        !Disabled
        && Events.Contains(eventName, StringComparer.Ordinal)
        && (string.Equals(owner, Owner, StringComparison.Ordinal) || AllJobs && AllJobsUntil > now)
        && (JobTypes is null || JobTypes.Contains(jobType, StringComparer.Ordinal));
}
