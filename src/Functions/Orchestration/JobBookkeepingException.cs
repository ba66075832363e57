namespace Jobs.Functions.Orchestration;

/// <summary>
/// The engine's own bookkeeping (a record, list-row, log or event write) failed — not the handler. The orchestration
/// retries such a failure with back-off until the job's deadline, without counting it against the step's retry
/// policy: only a handler's own exceptions fail a job.
/// </summary>
public sealed class JobBookkeepingException(string message, Exception inner) : Exception(MessagePrefix + message, inner)
{
    /// <summary>
    /// Starts every message, so the orchestration recognises the failure even where a host reports only the message
    /// (older isolated-worker hosts lost the exception type: Azure/azure-functions-durable-extension#3050).
    /// </summary>
    public const string MessagePrefix = "Jobs bookkeeping failed: ";

    /// <summary>Runs one bookkeeping call, turning any failure but cancellation into a <see cref="JobBookkeepingException"/>.</summary>
    public static async Task<T> Guard<T>(string what, Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not JobBookkeepingException)
        {
            throw new JobBookkeepingException($"{what}: {ex.Message}", ex);
        }
    }

    public static Task Guard(string what, Func<Task> call) => Guard<bool>(what, async () =>
    {
        await call();
        return true;
    });
}
