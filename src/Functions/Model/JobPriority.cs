namespace Jobs.Functions.Model;

/// <summary>A job's priority: 0–9, higher first, among the queued jobs of its type (then by arrival).</summary>
public static class JobPriority
{
    public const int Min = 0;
    public const int Max = 9;

    /// <summary>A job type's default unless it declares its own.</summary>
    public const int Default = 5;

    public static bool IsValid(int priority) => priority is >= Min and <= Max;
}
