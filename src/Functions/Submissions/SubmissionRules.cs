using System.Text;
using System.Text.Json;
using Jobs.Functions.Handlers;

namespace Jobs.Functions.Submissions;

/// <summary>Checks on free-text values that end up in records, keys and logs.</summary>
public static class SubmissionRules
{
    public const int MaxTextLength = 128;

    /// <summary>
    /// Largest accepted <c>input</c>, in UTF-8 bytes of its JSON: it must fit one Table column. Create, draft edit and
    /// submit all check it through <see cref="CheckInputSize"/>, so all three answer the same problem.
    /// </summary>
    public const int MaxInputBytes = 32 * 1024;

    /// <summary>Adds an error naming <c>input</c> when the input's JSON is larger than <see cref="MaxInputBytes"/>.</summary>
    public static void CheckInputSize(List<InputError> errors, JsonElement? input)
    {
        if (input is { } raw && Encoding.UTF8.GetByteCount(raw.GetRawText()) > MaxInputBytes)
        {
            errors.Add(new InputError("input", $"must be at most {MaxInputBytes} bytes of JSON"));
        }
    }

    /// <summary>
    /// The namespace of idempotency keys the service makes itself: a queue submission without a key gets
    /// <c>queue:{message id}</c>. Client keys may not start with it, so a client key never equals a derived one.
    /// </summary>
    public const string QueueKeyPrefix = "queue:";

    /// <summary>The namespace of the keys a bulk rerun gives each rerun (<c>bulk:{bulk job}:{original}</c>); reserved as <see cref="QueueKeyPrefix"/> is.</summary>
    public const string BulkKeyPrefix = "bulk:";

    /// <summary>
    /// The namespace of the keys a recurring schedule gives its runs (<c>schedule:{schedule id}:{occurrence}</c>), so an
    /// occurrence makes one job however many instances fire it; reserved as <see cref="QueueKeyPrefix"/> is.
    /// </summary>
    public const string ScheduleKeyPrefix = "schedule:";

    /// <summary>The entity type of a schedule's runs (<c>schedule/{id}</c>), reserved for them.</summary>
    public const string ScheduleEntityType = "schedule";

    /// <summary>How far ahead a job may be scheduled (<c>notBefore</c>).</summary>
    public static readonly TimeSpan MaxScheduleAhead = TimeSpan.FromDays(30);

    /// <summary>Adds an error when a scheduled start is too far ahead (a time with an offset is the same instant in UTC).</summary>
    public static void CheckNotBefore(List<InputError> errors, DateTimeOffset? notBefore, DateTimeOffset now)
    {
        if (notBefore is not { } time)
        {
            return;
        }
        if (time > now + MaxScheduleAhead)
        {
            errors.Add(new InputError("notBefore", $"must be at most {MaxScheduleAhead.TotalDays:0} days ahead"));
        }
    }

    /// <summary>Adds an error naming <c>priority</c> when it is outside 0–9.</summary>
    public static void CheckPriority(List<InputError> errors, int? priority)
    {
        if (priority is { } value && !Model.JobPriority.IsValid(value))
        {
            errors.Add(new InputError("priority", $"must be from {Model.JobPriority.Min} to {Model.JobPriority.Max} (higher starts first)"));
        }
    }

    /// <summary>The idempotency key of a queue message that names none: the same for every delivery of that message.</summary>
    public static string QueueMessageKey(string messageId) => QueueKeyPrefix + messageId;

    /// <summary>Adds an error when a client's idempotency key is not valid text or lies in the service's own namespace.</summary>
    public static void CheckIdempotencyKey(List<InputError> errors, string? key)
    {
        CheckText(errors, "idempotencyKey", key);
        if (key is not null && key.StartsWith(QueueKeyPrefix, StringComparison.Ordinal))
        {
            errors.Add(new InputError("idempotencyKey", $"must not start with '{QueueKeyPrefix}', which is reserved for keys made from queue message ids"));
        }
        else if (key is not null && key.StartsWith(BulkKeyPrefix, StringComparison.Ordinal))
        {
            errors.Add(new InputError("idempotencyKey", $"must not start with '{BulkKeyPrefix}', which is reserved for the keys of bulk reruns"));
        }
        else if (key is not null && key.StartsWith(ScheduleKeyPrefix, StringComparison.Ordinal))
        {
            errors.Add(new InputError("idempotencyKey", $"must not start with '{ScheduleKeyPrefix}', which is reserved for the runs of recurring schedules"));
        }
    }

    /// <summary>Adds an error when a value is too long or holds control characters; optionally when it is missing.</summary>
    public static void CheckText(List<InputError> errors, string field, string? value, bool required = false, int maxLength = MaxTextLength)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            if (required || value is not null)
            {
                errors.Add(new InputError(field, "is required and must not be blank"));
            }
            return;
        }
        if (value.Length > maxLength)
        {
            errors.Add(new InputError(field, $"must be {maxLength} characters or fewer"));
        }
        else if (value.Any(char.IsControl))
        {
            errors.Add(new InputError(field, "must not contain control characters"));
        }
    }
}
