using System.Reflection;
using Microsoft.Azure.Functions.Worker;
using Microsoft.AspNetCore.Http;
using Microsoft.DurableTask;

namespace Jobs.LocalRunner.Functions;

/// <summary>
/// Finds every function in the app assembly by its attributes, so the runner serves exactly what the Functions
/// host would: nothing is listed by hand. Throws at start-up for a parameter the runner cannot bind.
/// </summary>
public sealed class FunctionCatalog
{
    public FunctionCatalog(Assembly assembly)
    {
        var functions = new List<FunctionDescriptor>();
        foreach (var type in assembly.GetTypes())
        {
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            {
                if (method.GetCustomAttribute<FunctionAttribute>() is not { } function)
                {
                    continue;
                }
                var (kind, trigger) = FindTrigger(method);
                foreach (var parameter in method.GetParameters())
                {
                    // Compare positions: ParameterInfo instances are not guaranteed to be shared between calls.
                    if (parameter.Position != trigger.Position && !FunctionInvoker.CanBind(parameter))
                    {
                        throw new NotSupportedException($"The local runner cannot bind parameter '{parameter.Name}' ({parameter.ParameterType.Name}) of function {function.Name}.");
                    }
                }
                functions.Add(new FunctionDescriptor(function.Name, method, kind, trigger));
            }
        }
        All = functions.OrderBy(f => f.Name, StringComparer.Ordinal).ToList();
    }

    public IReadOnlyList<FunctionDescriptor> All { get; }

    public IEnumerable<FunctionDescriptor> Of(TriggerKind kind) => All.Where(f => f.Kind == kind);

    private static (TriggerKind, ParameterInfo) FindTrigger(MethodInfo method)
    {
        foreach (var parameter in method.GetParameters())
        {
            TriggerKind? kind =
                parameter.GetCustomAttribute<HttpTriggerAttribute>() is not null ? TriggerKind.Http
                : parameter.GetCustomAttribute<QueueTriggerAttribute>() is not null ? TriggerKind.Queue
                : parameter.GetCustomAttribute<TimerTriggerAttribute>() is not null ? TriggerKind.Timer
                : parameter.GetCustomAttribute<OrchestrationTriggerAttribute>() is not null ? TriggerKind.Orchestration
                : parameter.GetCustomAttribute<ActivityTriggerAttribute>() is not null ? TriggerKind.Activity
                : null;
            if (kind is { } found)
            {
                if (found == TriggerKind.Http && parameter.ParameterType != typeof(HttpRequest))
                {
                    throw new NotSupportedException($"{method.Name}: HTTP triggers take an ASP.NET Core HttpRequest.");
                }
                if (found == TriggerKind.Orchestration && parameter.ParameterType != typeof(TaskOrchestrationContext))
                {
                    throw new NotSupportedException($"{method.Name}: orchestrators take a TaskOrchestrationContext.");
                }
                return (found, parameter);
            }
        }
        throw new NotSupportedException($"Function method {method.DeclaringType?.Name}.{method.Name} has no trigger the local runner knows.");
    }
}
