using Microsoft.DurableTask;
using Microsoft.DurableTask.Entities;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Jobs.Testing;

/// <summary>
/// An orchestration context with no engine behind it, for testing an orchestrator's decisions in milliseconds (as
/// durabletask-dotnet's samples/AzureFunctionsUnitTests do with a mocked context): activities answer from
/// <see cref="Activity"/>, each call is recorded, and a durable timer moves the clock to when it fires at once.
/// </summary>
public sealed class ScriptedOrchestrationContext(object input, DateTime now) : TaskOrchestrationContext
{
    /// <summary>Answers an activity call (its name and input), or throws as the activity would.</summary>
    public required Func<string, object?, object?> Activity { get; init; }

    /// <summary>Every activity called, in order.</summary>
    public List<(string Name, object? Input)> Calls { get; } = [];

    /// <summary>The last custom status set.</summary>
    public object? CustomStatus { get; private set; }

    /// <summary>The orchestration's clock; an activity may move it on (e.g. past a deadline).</summary>
    public DateTime Now { get; set; } = DateTime.SpecifyKind(now, DateTimeKind.Utc);

    public override TaskName Name => "JobOrchestrator";

    public override string InstanceId => "scripted";

    public override ParentOrchestrationInstance? Parent => null;

    public override DateTime CurrentUtcDateTime => Now;

    public override bool IsReplaying => false;

    public override TaskOrchestrationEntityFeature Entities => throw new NotSupportedException();

    protected override ILoggerFactory LoggerFactory => NullLoggerFactory.Instance;

    public override T GetInput<T>() => (T)input;

    /// <summary>
    /// What the admission activity answers (<see cref="Jobs.Functions.Orchestration.JobActivities.AdmitJob"/>): true (a slot
    /// at once) unless a test says otherwise, so scripts of the steps need not answer it.
    /// </summary>
    public Func<bool> Admit { get; init; } = () => true;

    public override Task<TResult> CallActivityAsync<TResult>(TaskName name, object? input = null, TaskOptions? options = null)
    {
        Calls.Add((name.Name, input));
        if (name.Name == nameof(Jobs.Functions.Orchestration.JobActivities.AdmitJob))
        {
            return Task.FromResult((TResult)(object)Admit());
        }
        try
        {
            return Task.FromResult((TResult)Activity(name.Name, input)!);
        }
        catch (TaskFailedException failure)
        {
            return Task.FromException<TResult>(failure);
        }
    }

    public override Task CreateTimer(DateTime fireAt, CancellationToken cancellationToken)
    {
        if (fireAt > Now)
        {
            Now = DateTime.SpecifyKind(fireAt, DateTimeKind.Utc);
        }
        return Task.CompletedTask;
    }

    public override void SetCustomStatus(object? customStatus) => CustomStatus = customStatus;

    /// <summary>Answers an external event the orchestration waits for (none by default: waiting is not supported).</summary>
    public Func<string, object?>? Event { get; init; }

    /// <summary>The external events waited for, in order.</summary>
    public List<string> Waited { get; } = [];

    /// <summary>
    /// Whether an awaited event arrives (by default it does, at once); when not, the wait never completes, so a durable
    /// timer raced against it wins.
    /// </summary>
    public Func<string, bool> EventArrives { get; init; } = _ => true;

    public override Task<T> WaitForExternalEvent<T>(string eventName, CancellationToken cancellationToken = default)
    {
        Waited.Add(eventName);
        if (!EventArrives(eventName))
        {
            return new TaskCompletionSource<T>().Task;
        }
        return Event is { } answer ? Task.FromResult((T)answer(eventName)!) : throw new NotSupportedException();
    }

    public override void SendEvent(string instanceId, string eventName, object payload) => throw new NotSupportedException();

    public override Task<TResult> CallSubOrchestratorAsync<TResult>(TaskName orchestratorName, object? input = null, TaskOptions? options = null) =>
        throw new NotSupportedException();

    public override void ContinueAsNew(object? newInput = null, bool preserveUnprocessedEvents = true) => throw new NotSupportedException();

    public override Guid NewGuid() => throw new NotSupportedException();
}
