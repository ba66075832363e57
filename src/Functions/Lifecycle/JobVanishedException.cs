namespace Jobs.Functions.Lifecycle;

/// <summary>The job was deleted (a purge, retention, a bulk delete) while a command was changing it.</summary>
public sealed class JobVanishedException(string jobId) : InvalidOperationException($"Job {jobId} vanished.")
{
    public string JobId { get; } = jobId;
}
