using Jobs.Functions.Handlers;

namespace Jobs.Functions.Submissions;

/// <summary>Checks on free-text values that end up in records, keys and logs.</summary>
public static class SubmissionRules
{
    public const int MaxTextLength = 128;

    /// <summary>Largest accepted <c>input</c>, in UTF-8 bytes of its JSON: it must fit one Table column.</summary>
    public const int MaxInputBytes = 32 * 1024;

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
            errors.Add(new InputError(field, $"must be at most {maxLength} characters"));
        }
        else if (value.Any(char.IsControl))
        {
            errors.Add(new InputError(field, "must not contain control characters"));
        }
    }
}
