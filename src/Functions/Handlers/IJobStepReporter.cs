using Jobs.Functions.Model;

namespace Jobs.Functions.Handlers;

/// <summary>
/// Where a running step's progress and log lines go. The engine's implementation writes them to storage within a
/// fraction of a second, batched, so a poller sees them while the step still runs; handler unit tests use an in-memory one.
/// </summary>
public interface IJobStepReporter
{
    /// <summary>Records step-local progress; returns true when the job has been asked to cancel.</summary>
    Task<bool> ReportProgressAsync(int stepPercent, string? message, CancellationToken cancellationToken);

    Task LogAsync(JobLogLevel level, string message, CancellationToken cancellationToken);

    /// <summary>Cancelled when the engine learns, between reports, that the job was asked to cancel or ended.</summary>
    CancellationToken Cancelled => CancellationToken.None;
}
