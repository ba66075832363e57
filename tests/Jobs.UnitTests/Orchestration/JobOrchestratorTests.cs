using Jobs.Functions.Orchestration;
using Microsoft.DurableTask;

namespace Jobs.UnitTests.Orchestration;

/// <summary>How the orchestration tells the engine's bookkeeping failures from a handler's (pure logic).</summary>
public sealed class JobOrchestratorTests
{
    private static TaskFailedException Failure(string type, string message, TaskFailureDetails? inner = null) =>
        new("RunJobStep", 3, new TaskFailureDetails(type, message, null, inner, null));

    [Fact]
    public void IsBookkeeping_ByExceptionType() =>
        Assert.True(JobOrchestrator.IsBookkeeping(Failure(typeof(JobBookkeepingException).FullName!, "whatever")));

    [Fact]
    public void IsBookkeeping_TypeLostByTheHost_RecognisedByTheMessage() =>
        // Older isolated-worker hosts reported "(unknown)" as the type (Azure/azure-functions-durable-extension#3050).
        Assert.True(JobOrchestrator.IsBookkeeping(Failure("(unknown)", JobBookkeepingException.MessagePrefix + "record the step's start: boom")));

    [Fact]
    public void IsBookkeeping_WrappedInAnInnerFailure() =>
        Assert.True(JobOrchestrator.IsBookkeeping(Failure("System.AggregateException", "One or more errors occurred.",
            new TaskFailureDetails(typeof(JobBookkeepingException).FullName!, "x", null, null, null))));

    [Fact]
    public void IsBookkeeping_HandlerException_IsNot() =>
        Assert.False(JobOrchestrator.IsBookkeeping(Failure("System.InvalidOperationException", "Step 2 failed because failAtStep is 2.")));

    [Fact]
    public void BookkeepingBackoff_DoublesFromOneSecond_UpToTheCap()
    {
        Assert.Equal(TimeSpan.FromSeconds(1), JobOrchestrator.BookkeepingBackoff(1));
        Assert.Equal(TimeSpan.FromSeconds(4), JobOrchestrator.BookkeepingBackoff(3));
        Assert.Equal(JobOrchestrator.MaxBookkeepingBackoff, JobOrchestrator.BookkeepingBackoff(50));
    }
}
