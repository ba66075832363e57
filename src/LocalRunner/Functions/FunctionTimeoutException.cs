// The Functions host fails a timed-out invocation with Microsoft.Azure.WebJobs.Host.FunctionTimeoutException; an
// activity's failure details carry that type name to the orchestration. The runner's exception has the same full
// name, so code that reads the error type (a job's error.type) sees what it would see under the host.
namespace Microsoft.Azure.WebJobs.Host;

/// <summary>
/// A function ran past host.json's <c>functionTimeout</c>. Thrown by the local runner in place of the WebJobs SDK
/// exception of the same name, with the same message.
/// </summary>
public sealed class FunctionTimeoutException : Exception
{
    internal FunctionTimeoutException(string message, Task invocation)
        : base(message)
    {
        Task = invocation;
    }

    /// <summary>The invocation that timed out, still running until it observes its cancellation (as the SDK's <c>Task</c>).</summary>
    public Task Task { get; }
}
