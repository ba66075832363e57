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

/// <summary>An <c>[ActivityTrigger]</c> function presented to the Durable Task shims.</summary>
internal sealed class FunctionActivity(FunctionDescriptor function, IServiceProvider services, DurableTaskClient client, CancellationToken stopping) : ITaskActivity
{
    public Type InputType => function.TriggerType;

    public Type OutputType => function.ResultType ?? typeof(object);

    public Task<object?> RunAsync(TaskActivityContext context, object? input) =>
        FunctionInvoker.InvokeAsync(function, new InvocationContext(services, input, client, stopping));
}
