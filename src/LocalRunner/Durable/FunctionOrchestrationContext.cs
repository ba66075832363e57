using Microsoft.DurableTask;
using Microsoft.DurableTask.Entities;
using Microsoft.Extensions.Logging;

namespace Jobs.LocalRunner.Durable;

/// <summary>
/// What a function-based orchestrator receives under the runner. Function orchestrators declare no input type,
/// so the shim hands over the raw JSON; like the Functions worker's own context wrapper, this one deserialises it
/// in <see cref="GetInput{T}"/> and passes everything else straight to the shim's context.
/// </summary>
internal sealed class FunctionOrchestrationContext(TaskOrchestrationContext inner, string? rawInput, DataConverter converter, ILoggerFactory loggers)
    : TaskOrchestrationContext
{
    public override TaskName Name => inner.Name;
    public override string InstanceId => inner.InstanceId;
    public override ParentOrchestrationInstance? Parent => inner.Parent;
    public override DateTime CurrentUtcDateTime => inner.CurrentUtcDateTime;
    public override bool IsReplaying => inner.IsReplaying;
    public override TaskOrchestrationEntityFeature Entities => inner.Entities;
    public override string Version => inner.Version;
    public override IReadOnlyDictionary<string, object?> Properties => inner.Properties;
    protected override ILoggerFactory LoggerFactory => loggers;

    public override T GetInput<T>() => converter.Deserialize<T>(rawInput)!;

    public override Task<TResult> CallActivityAsync<TResult>(TaskName name, object? input = null, TaskOptions? options = null) =>
        inner.CallActivityAsync<TResult>(name, input, options);

    public override Task CreateTimer(DateTime fireAt, CancellationToken cancellationToken) => inner.CreateTimer(fireAt, cancellationToken);

    public override Task<T> WaitForExternalEvent<T>(string eventName, CancellationToken cancellationToken = default) =>
        inner.WaitForExternalEvent<T>(eventName, cancellationToken);

    public override void SendEvent(string instanceId, string eventName, object payload) => inner.SendEvent(instanceId, eventName, payload);

    public override void SetCustomStatus(object? customStatus) => inner.SetCustomStatus(customStatus);

    public override Task<TResult> CallSubOrchestratorAsync<TResult>(TaskName orchestratorName, object? input = null, TaskOptions? options = null) =>
        inner.CallSubOrchestratorAsync<TResult>(orchestratorName, input, options);

    public override void ContinueAsNew(object? newInput = null, bool preserveUnprocessedEvents = true) =>
        inner.ContinueAsNew(newInput, preserveUnprocessedEvents);

    public override Guid NewGuid() => inner.NewGuid();
}
