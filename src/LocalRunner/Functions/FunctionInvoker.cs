using System.Globalization;
using System.Reflection;
using Microsoft.Azure.Functions.Worker;
using Microsoft.AspNetCore.Http;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.LocalRunner.Functions;

/// <summary>What one invocation can bind from.</summary>
public sealed record InvocationContext(
    IServiceProvider Services, object? TriggerValue, DurableTaskClient Durable, CancellationToken Cancellation, HttpContext? Http = null);

/// <summary>
/// Calls a function method the way the isolated worker does: the class is created from DI for each invocation,
/// parameters are bound from the trigger, route values, <c>[DurableClient]</c> and the cancellation token.
/// </summary>
public static class FunctionInvoker
{
    /// <summary>Non-trigger parameters the runner knows how to supply.</summary>
    public static bool CanBind(ParameterInfo parameter) =>
        parameter.ParameterType == typeof(CancellationToken)
        || parameter.GetCustomAttribute<DurableClientAttribute>() is not null
        || parameter.ParameterType == typeof(string) || parameter.ParameterType == typeof(int) || parameter.ParameterType == typeof(Guid);

    public static async Task<object?> InvokeAsync(FunctionDescriptor function, InvocationContext context)
    {
        await using var scope = context.Services.CreateAsyncScope();
        var target = function.Method.IsStatic
            ? null
            : ActivatorUtilities.CreateInstance(scope.ServiceProvider, function.Method.DeclaringType!);
        var arguments = function.Method.GetParameters().Select(p => Bind(function, p, context)).ToArray();
        object? returned;
        try
        {
            returned = function.Method.Invoke(target, arguments);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerException).Throw();
            throw;
        }
        if (returned is Task task)
        {
            await task;
            return function.ResultType is null ? null : task.GetType().GetProperty(nameof(Task<object>.Result))!.GetValue(task);
        }
        return returned;
    }

    private static object? Bind(FunctionDescriptor function, ParameterInfo parameter, InvocationContext context)
    {
        if (parameter.Position == function.TriggerParameter.Position)
        {
            return function.Kind == TriggerKind.Http ? context.Http!.Request : context.TriggerValue;
        }
        if (parameter.ParameterType == typeof(CancellationToken))
        {
            return context.Cancellation;
        }
        if (parameter.GetCustomAttribute<DurableClientAttribute>() is not null)
        {
            return context.Durable;
        }
        var raw = context.Http?.Request.RouteValues[parameter.Name!]?.ToString();
        if (raw is null)
        {
            return parameter.HasDefaultValue ? parameter.DefaultValue : null;
        }
        return parameter.ParameterType == typeof(string) ? raw
            : parameter.ParameterType == typeof(int) ? int.Parse(raw, CultureInfo.InvariantCulture)
            : Guid.Parse(raw);
    }
}
