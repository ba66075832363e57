namespace Jobs.Functions.Model;

/// <summary>Severity of a job log line.</summary>
public enum JobLogLevel
{
    Debug,
    Information,
    Warning,
    Error,
}

/// <summary>One line of a job's log. <see cref="Cursor"/> orders the lines and resumes a tail.</summary>
public sealed record JobLogLine(string Cursor, DateTimeOffset Timestamp, JobLogLevel Level, string Message, string? Step);
