namespace Jobs.Functions.Webhooks;

/// <summary>The state of one delivery: <c>pending</c> (a try is due at <see cref="WebhookDelivery.NextTryAt"/>), <c>delivered</c>, <c>failed</c> (gave up).</summary>
public enum WebhookDeliveryState
{
    Pending,
    Delivered,
    Failed,
}

/// <summary>
/// One event owed to one subscription, and what its tries got. <see cref="Id"/> orders deliveries newest first and is
/// the same however often the event is announced (it is made of the change's time, the job id and the change number).
/// </summary>
public sealed record WebhookDelivery
{
    public required string Id { get; init; }
    public required string SubscriptionId { get; init; }
    public required string EventId { get; init; }
    public required string Event { get; init; }
    public required string JobId { get; init; }
    public required WebhookDeliveryState State { get; init; }
    public int Attempts { get; init; }
    public int? ResponseCode { get; init; }
    public string? Response { get; init; }
    public string? Error { get; init; }
    public int? LatencyMs { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? LastAttemptAt { get; init; }
    public DateTimeOffset? NextTryAt { get; init; }

    /// <summary>
    /// The claim on the next try: until then the instance that wrote it (the one that added the row, made a retry due,
    /// or claimed it before sending) is the only sender; the sweep takes the row over only after it. Every claim is written
    /// under the ETag read, so two instances, or an instance and the sweep, never both send the same try.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public DateTimeOffset? ClaimedUntil { get; init; }

    /// <summary>A manual retry: one extra try, never followed by the schedule's, and never disabling the subscription.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool Manual { get; init; }

    /// <summary>When the sweep may take the row over: its claim's end, or its next try when unclaimed; null unless pending.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public DateTimeOffset? SweepAt => State == WebhookDeliveryState.Pending ? ClaimedUntil ?? NextTryAt ?? CreatedAt : null;

    /// <summary>The CloudEvent sent on every try (the same bytes, so a receiver sees one event).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string Body { get; init; } = "";
}
