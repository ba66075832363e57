using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace Jobs.Functions.Webhooks;

/// <summary>Webhook subscriptions and deliveries, bound from <c>Jobs:Webhooks</c>.</summary>
public sealed class WebhookOptions : IValidatableObject
{
    public const string Section = "Jobs:Webhooks";

    /// <summary>
    /// The back-off between attempts: attempt n+1 comes this long after attempt n fails. The default adds up to about
    /// 24 hours (5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, 8 h, 8 h): after the last one fails the delivery is
    /// marked failed. Comma-separated <c>hh:mm:ss</c> values.
    /// </summary>
    public string RetrySchedule { get; set; } = "00:00:05,00:00:30,00:02:00,00:10:00,00:30:00,01:00:00,02:00:00,04:00:00,08:00:00,08:00:00";

    /// <summary>Subscriptions one owner may have; one more is refused (409 naming the field <c>webhooks</c>, nothing stored).</summary>
    [Range(1, 100)]
    public int MaxPerOwner { get; set; } = 10;

    /// <summary>
    /// For local development and tests only: allow plain <c>http</c> to a loopback host (<c>localhost</c>, 127.0.0.0/8,
    /// ::1) and connections to loopback addresses. Off: https only, and loopback is refused like any private address.
    /// </summary>
    public bool AllowLoopbackHttp { get; set; }

    /// <summary>How long one delivery attempt may take, connection included; then it counts as failed.</summary>
    [Range(1, 60)]
    public int TimeoutSeconds { get; set; } = 10;

    /// <summary>How long an instance reuses the subscriptions it read (changes made on the same instance are seen at once).</summary>
    [Range(0, 300)]
    public int SubscriptionCacheSeconds { get; set; } = 10;

    /// <summary>
    /// How long a claim on a delivery's next try lasts (<see cref="WebhookDelivery.ClaimedUntil"/>): the instance that
    /// wrote it is the only sender until then, and the sweep takes the delivery over only after it (its instance died, or
    /// was busy) — the in-process dispatcher makes the tries on time; the sweep is the backstop. More than
    /// <see cref="TimeoutSeconds"/>, so a claim outlasts the try it covers.
    /// </summary>
    [Range(1, 3600)]
    public int SweepGraceSeconds { get; set; } = 60;

    /// <summary>
    /// How long the write path waits for an event's first try before it lets the change settle. A try that answers within
    /// it is recorded by one write (its outcome: the delivery row is written once); the change stays unsettled meanwhile, so
    /// a process that dies before that write leaves it for the reconciler, which announces it again. A try still running
    /// when the wait ends gets a pending row first (claimed by this process, as before) and its outcome over it: two
    /// writes. 0: always the pending row first. The wait delays the change's all-jobs list rows and the caller that made
    /// the change (an activity, a cancel) by at most this, per change, however many subscriptions want it.
    /// </summary>
    [Range(0, 60_000)]
    public int FirstTryWaitMilliseconds { get; set; } = 2_000;

    /// <summary>
    /// <c>job.progress</c> events: at most one per job per this many seconds (per instance; the one instance running a
    /// step is the one reporting its progress). The event's id is the job and the window of this length it falls in, so
    /// it is the same on every try. The last progress before the ending may not be sent: the ending's event carries it.
    /// </summary>
    [Range(1, 3600)]
    public int ProgressIntervalSeconds { get; set; } = 10;

    /// <summary>
    /// Days a delivered or failed delivery row (with the event it carried) is kept in the delivery log; older ones are
    /// removed by the sweep, hourly, at most <see cref="MaxPrunedPerRun"/> a run. A pending row is kept until its tries end.
    /// </summary>
    [Range(1, 3650)]
    public int DeliveryRetentionDays { get; set; } = 30;

    /// <summary>Most delivery rows one sweep run removes (old rows, and rows of deleted subscriptions).</summary>
    [Range(1, 100_000)]
    public int MaxPrunedPerRun { get; set; } = 2_000;

    /// <summary>
    /// Days an admin's <c>allJobs</c> subscription receives other owners' jobs; then only its owner's, until an admin
    /// subscribes again. The service learns roles only from a request, so it cannot see an admin role being withdrawn:
    /// this bounds how long a former admin's subscription goes on receiving everyone's events.
    /// </summary>
    [Range(1, 365)]
    public int AllJobsDays { get; set; } = 30;

    /// <summary>The parsed <see cref="RetrySchedule"/>.</summary>
    public IReadOnlyList<TimeSpan> Backoff() =>
        [.. RetrySchedule.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(part => TimeSpan.ParseExact(part, "c", CultureInfo.InvariantCulture))];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        IReadOnlyList<TimeSpan>? schedule = null;
        string? error = null;
        try
        {
            schedule = Backoff();
        }
        catch (FormatException ex)
        {
            error = ex.Message;
        }
        if (SweepGraceSeconds <= TimeoutSeconds)
        {
            yield return new ValidationResult(
                $"{Section}:{nameof(SweepGraceSeconds)} must be more than {nameof(TimeoutSeconds)} ({TimeoutSeconds}): a try in flight would be sent again.",
                [nameof(SweepGraceSeconds)]);
        }
        if (error is not null || schedule is null || schedule.Count is 0 or > 30 || schedule.Any(s => s <= TimeSpan.Zero || s > TimeSpan.FromDays(1)))
        {
            yield return new ValidationResult(
                $"{Section}:{nameof(RetrySchedule)}: 1 to 30 comma-separated positive durations of at most a day (hh:mm:ss). {error}",
                [nameof(RetrySchedule)]);
        }
    }
}
