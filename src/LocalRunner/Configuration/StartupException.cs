namespace Jobs.LocalRunner.Configuration;

/// <summary>
/// The runner cannot start for a reason a person can fix: the message says what and where (a setting's name, an
/// endpoint), never a secret, and the process exits with <see cref="ExitCode"/> and no stack trace.
/// </summary>
public sealed class StartupException(string message, int exitCode, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>A setting is missing or malformed (a connection string, an option out of range).</summary>
    public const int InvalidSetting = 2;

    /// <summary>Storage does not answer at an endpoint the settings name.</summary>
    public const int StorageUnreachable = 3;

    public int ExitCode { get; } = exitCode;
}
