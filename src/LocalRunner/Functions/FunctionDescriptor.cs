using System.Reflection;
using Microsoft.Azure.Functions.Worker;

namespace Jobs.LocalRunner.Functions;

/// <summary>What kind of trigger starts a function.</summary>
public enum TriggerKind
{
    Http,
    Queue,
    Timer,
    Orchestration,
    Activity,
}

/// <summary>One <c>[Function]</c> method as the runner sees it, read from the same attributes the Functions SDK reads.</summary>
public sealed record FunctionDescriptor(string Name, MethodInfo Method, TriggerKind Kind, ParameterInfo TriggerParameter)
{
    public HttpTriggerAttribute? Http => TriggerParameter.GetCustomAttribute<HttpTriggerAttribute>();
    public QueueTriggerAttribute? Queue => TriggerParameter.GetCustomAttribute<QueueTriggerAttribute>();
    public TimerTriggerAttribute? Timer => TriggerParameter.GetCustomAttribute<TimerTriggerAttribute>();

    /// <summary>The payload type an activity receives.</summary>
    public Type TriggerType => TriggerParameter.ParameterType;

    /// <summary>T of Task&lt;T&gt; (or the plain return type); null for Task/void.</summary>
    public Type? ResultType => Method.ReturnType switch
    {
        { IsGenericType: true } t when t.GetGenericTypeDefinition() == typeof(Task<>) => t.GetGenericArguments()[0],
        var t when t == typeof(Task) || t == typeof(void) => null,
        var t => t,
    };
}
