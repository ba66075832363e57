using Jobs.LocalRunner.Functions;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;

namespace Jobs.LocalRunner.Durable;

/// <summary>An <c>[OrchestrationTrigger]</c> function presented to the Durable Task shims.</summary>
internal sealed class FunctionOrchestrator(
    FunctionDescriptor function, IServiceProvider services, DurableTaskClient client, DataConverter converter, ILoggerFactory loggers) : ITaskOrchestrator
{
    // Function-based orchestrators read their input with context.GetInput<T>(): take it as raw JSON here.
    public Type InputType => typeof(System.Text.Json.JsonElement?);

    public Type OutputType => function.ResultType ?? typeof(object);

    public Task<object?> RunAsync(TaskOrchestrationContext context, object? input)
    {
        var raw = input is System.Text.Json.JsonElement element ? element.GetRawText() : null;
        var functionContext = new FunctionOrchestrationContext(context, raw, converter, loggers);
        return FunctionInvoker.InvokeOrchestratorAsync(function, new InvocationContext(services, functionContext, client, CancellationToken.None));
    }
}

/// <summary>
/// An <c>[ActivityTrigger]</c> function presented to the Durable Task shims. Its cancellation token is the host's
/// "stopping" signal; a function that fails once that signal is given is abandoned rather than failed, so its work item
/// runs again after a restart and no retry is charged — as the extension's OutOfProcMiddleware.CallActivityAsync does
/// (it throws SessionAbortedException, which DurableTask.Core's TaskActivityDispatcher turns into an abandon).
/// </summary>
internal sealed class FunctionActivity(FunctionDescriptor function, IServiceProvider services, DurableTaskClient client, CancellationToken stopping) : ITaskActivity
{
    public Type InputType => function.TriggerType;

    public Type OutputType => function.ResultType ?? typeof(object);

    public async Task<object?> RunAsync(TaskActivityContext context, object? input)
    {
        try
        {
            return await FunctionInvoker.InvokeAsync(function, new InvocationContext(services, input, client, stopping));
        }
        catch (Exception ex) when (stopping.IsCancellationRequested)
        {
            throw new DurableTask.Core.Exceptions.SessionAbortedException("The Functions/WebJobs runtime is shutting down!", ex);
        }
    }
}
