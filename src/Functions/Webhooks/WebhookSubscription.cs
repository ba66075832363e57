namespace Jobs.Functions.Webhooks;

/// <summary>
/// A subscription: where to send which events of whose jobs. <see cref="AllJobs"/> (admins only) receives every owner's
/// jobs; otherwise only <see cref="Owner"/>'s. <see cref="JobTypes"/> null: every type. A subscription whose deliveries
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
    public string? Description { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public bool Disabled { get; init; }
    public string? DisabledReason { get; init; }
    public DateTimeOffset? DisabledAt { get; init; }

    /// <summary>The signing secret (<c>whsec_</c> + base64 of 32 random bytes): shown once, at creation; never serialized otherwise.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public required string Secret { get; init; }

    /// <summary>Whether <paramref name="eventName"/> of a job of <paramref name="owner"/> and <paramref name="jobType"/> goes to this subscription.</summary>
    public bool Wants(string eventName, string owner, string jobType) =>
        !Disabled
        && Events.Contains(eventName, StringComparer.Ordinal)
        && (AllJobs || string.Equals(owner, Owner, StringComparison.Ordinal))
        && (JobTypes is null || JobTypes.Contains(jobType, StringComparer.Ordinal));
}
