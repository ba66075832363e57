namespace Jobs.Functions.Lifecycle;

/// <summary>A request that the job's current state does not allow (edit or submit a non-draft, …): a 409.</summary>
public sealed class JobStateException(string message) : Exception(message);
