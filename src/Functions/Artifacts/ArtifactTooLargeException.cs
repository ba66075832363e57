namespace Jobs.Functions.Artifacts;

/// <summary>An artifact (or the sum of a job's artifacts, or their count) went over its cap (<see cref="ArtifactOptions"/>).</summary>
public sealed class ArtifactTooLargeException(string message) : InvalidOperationException(message);
