namespace Jobs.Functions.Lifecycle;

/// <summary>
/// A request that the job's current state does not allow (edit or submit a non-draft, rerun a running job, …): a 409.
/// <paramref name="field"/> names the request field the refusal is about, when there is one.
/// </summary>
public sealed class JobStateException(string message, string? field = null) : Exception(message)
{
    public string? Field { get; } = field;
}
