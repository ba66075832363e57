using Jobs.Functions.Handlers;
using Jobs.Functions.Model;

namespace Jobs.UnitTests.Handlers;

/// <summary>An in-memory <see cref="IJobStepReporter"/> for handler unit tests.</summary>
public sealed class RecordingReporter(bool cancelAfterFirstReport = false) : IJobStepReporter
{
    public List<(int Percent, string? Message)> Progress { get; } = [];
    public List<(JobLogLevel Level, string Message)> Logs { get; } = [];

    public Task<bool> ReportProgressAsync(int stepPercent, string? message, CancellationToken cancellationToken)
    {
        Progress.Add((stepPercent, message));
        return Task.FromResult(cancelAfterFirstReport);
    }

    public Task LogAsync(JobLogLevel level, string message, CancellationToken cancellationToken)
    {
        Logs.Add((level, message));
        return Task.CompletedTask;
    }

    public static JobStepContext Context(RecordingReporter reporter, int stepIndex = 0, int attempt = 1, System.Text.Json.JsonElement? previous = null) =>
        new("0123456789abcdef0123456789abcdef", "alice", $"step-{stepIndex + 1}", stepIndex, 3, attempt, previous, reporter, CancellationToken.None);
}
