using System.Globalization;
using System.Reflection;
using Jobs.LocalRunner.Configuration;
using Jobs.LocalRunner.Restarts;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.WebJobs.Host;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Jobs.LocalRunner.Functions;

/// <summary>
/// What one invocation can bind from. <paramref name="BindingData"/> is the trigger's binding data (the host's trigger
/// metadata), keys compared ignoring case.
/// </summary>
public sealed record InvocationContext(
    IServiceProvider Services, object? TriggerValue, DurableTaskClient Durable, CancellationToken Cancellation, HttpContext? Http = null,
    IReadOnlyDictionary<string, object?>? BindingData = null);

/// <summary>
/// Calls a function method the way the isolated worker does: the class is created from DI for each invocation,
/// parameters are bound from the trigger, the trigger's binding data (by name, ignoring case, as the worker's
/// <c>DefaultFunctionInputBindingFeature</c> reads its trigger metadata), route values, <c>[DurableClient]</c> and the
/// cancellation token. Every
/// invocation but an orchestrator episode is bounded by host.json's <c>functionTimeout</c>, as the host bounds it.
/// </summary>
public static partial class FunctionInvoker
{
    /// <summary>Non-trigger parameters the runner knows how to supply.</summary>
    public static bool CanBind(ParameterInfo parameter) =>
        parameter.ParameterType == typeof(CancellationToken)
        || parameter.GetCustomAttribute<DurableClientAttribute>() is not null
        || parameter.ParameterType == typeof(string) || parameter.ParameterType == typeof(int) || parameter.ParameterType == typeof(Guid);

    /// <summary>
    /// Invokes <paramref name="function"/>. When it runs past <c>functionTimeout</c> it is handled as the WebJobs SDK's
    /// FunctionExecutor handles it with ThrowOnTimeout (which the host sets, JobHostFunctionTimeoutOptionsSetup): the
    /// error "Timeout value of … exceeded by function '…' (Id: …)" is logged, the function's cancellation token is
    /// cancelled, and the invocation fails at once with a <see cref="FunctionTimeoutException"/> whose message is the
    /// SDK's "Timeout value of … was exceeded by function: Functions.…" — without waiting for the function
    /// to stop. The host's exception handler then waits <see cref="TimeoutGracePeriod"/> for the function and, if it has
    /// not stopped, restarts the worker process, aborting every invocation in it (WebScriptHostExceptionHandler
    /// .OnTimeoutExceptionAsync → RestartWorkerWithInvocationIdAsync); the runner does the same through
    /// <see cref="HostRestarter.RequestWorkerRestart"/>. Every invocation's token is also cancelled when the host restarts. Orchestrator episodes are not timed here: the host times them too, but aborts the
    /// episode for a replay instead of failing it, and an orchestrator does no I/O, so an episode never waits.
    /// </summary>
    public static async Task<object?> InvokeAsync(FunctionDescriptor function, InvocationContext context)
    {
        if (context.Services.GetService<HostRestarter>() is not { } restarter)
        {
            return await InvokeTimedAsync(function, context, null);
        }
        // A host restart aborts every invocation running, as the worker process going away does.
        using var aborted = CancellationTokenSource.CreateLinkedTokenSource(context.Cancellation, restarter.InvocationsAborted);
        var http = context.Http;
        var requestAborted = http?.RequestAborted;
        if (http is not null)
        {
            http.RequestAborted = aborted.Token;
        }
        try
        {
            return await InvokeTimedAsync(function, context with { Cancellation = aborted.Token }, restarter);
        }
        finally
        {
            if (http is not null && requestAborted is { } original)
            {
                http.RequestAborted = original;
            }
        }
    }

    /// <summary>How long the host waits for a timed-out function to stop before it restarts the worker (runner's value).</summary>
    public static readonly TimeSpan TimeoutGracePeriod = TimeSpan.FromSeconds(2);

    private static async Task<object?> InvokeTimedAsync(FunctionDescriptor function, InvocationContext context, HostRestarter? restarter)
    {
        var timeout = function.Kind == TriggerKind.Orchestration ? null : context.Services.GetService<HostSettings>()?.FunctionTimeout;
        if (timeout is not { } limit)
        {
            return await InvokeCoreAsync(function, context);
        }

        var cancellation = CancellationTokenSource.CreateLinkedTokenSource(context.Cancellation);
        if (context.Http is { } http)
        {
            // HTTP functions read cancellation from the request: make its abort token the invocation's as well.
            http.RequestAborted = cancellation.Token;
        }
        var invocation = InvokeCoreAsync(function, context with { Cancellation = cancellation.Token });
        using (var timer = new CancellationTokenSource())
        {
            var expiry = Task.Delay(limit, timer.Token);
            if (await Task.WhenAny(invocation, expiry) == invocation)
            {
                await timer.CancelAsync();
                if (context.Http is { } finished)
                {
                    finished.RequestAborted = context.Cancellation;
                }
                cancellation.Dispose();
                return await invocation;
            }
        }

        var invocationId = Guid.NewGuid();
        var logged = string.Format(CultureInfo.InvariantCulture,
            "Timeout value of {0} exceeded by function 'Functions.{1}' (Id: '{2}'). Initiating cancellation.", limit, function.Name, invocationId);
        var logger = context.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Jobs.LocalRunner.FunctionTimeout");
        LogTimedOut(logger, logged);
        await cancellation.CancelAsync();
        // The invocation is abandoned, not awaited: dispose its token source once it stops, and observe how it ends.
        _ = invocation.ContinueWith(ended =>
        {
            cancellation.Dispose();
            if (ended.IsFaulted)
            {
                LogEndedAfterTimeout(logger, ended.Exception, function.Name, invocationId);
            }
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        // The exception's message is not the logged line: FunctionExecutor.TryHandleTimeoutAsync throws
        // string.Format("Timeout value of {0} was exceeded by function: {1}", timeoutInterval, ShortName), and the
        // script host's ShortName is "Functions.<name>".
        var timedOut = new FunctionTimeoutException(string.Format(CultureInfo.InvariantCulture,
            "Timeout value of {0} was exceeded by function: Functions.{1}", limit, function.Name), invocation);
        if (restarter is not null)
        {
            _ = RestartUnlessStoppedAsync(restarter, function, invocationId, timedOut);
        }
        throw timedOut;
    }

    /// <summary>As WebScriptHostExceptionHandler.OnTimeoutExceptionAsync: a function still running after the grace period restarts the worker.</summary>
    private static async Task RestartUnlessStoppedAsync(HostRestarter restarter, FunctionDescriptor function, Guid invocationId, FunctionTimeoutException timedOut)
    {
        if (await Task.WhenAny(timedOut.Task, Task.Delay(TimeoutGracePeriod)) != timedOut.Task)
        {
            restarter.RequestWorkerRestart($"A function timeout has occurred and Functions.{function.Name} (Id: '{invocationId}') has not stopped", timedOut);
        }
    }

    /// <summary>
    /// Runs one orchestrator episode, untimed (see <see cref="InvokeAsync"/>). A separate entry point keeps the timer,
    /// the clock and the logging of the timed path out of the orchestrator's call graph, which the Durable analyzers check.
    /// </summary>
    public static Task<object?> InvokeOrchestratorAsync(FunctionDescriptor function, InvocationContext context) =>
        function.Kind == TriggerKind.Orchestration
            ? InvokeCoreAsync(function, context)
            : throw new ArgumentException($"{function.Name} is not an orchestrator.", nameof(function));

    private static async Task<object?> InvokeCoreAsync(FunctionDescriptor function, InvocationContext context)
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
            return context.Services.GetRequiredService<Durable.DurableClientBinding>().Bind(context.Durable);
        }
        if (context.BindingData is { } data && data.TryGetValue(parameter.Name!, out var value) && value is not null)
        {
            return value switch
            {
                _ when parameter.ParameterType.IsInstanceOfType(value) => value,
                string text => Parse(text, parameter.ParameterType),
                // DequeueCount is a long in the extension's contract; an int parameter takes it as the worker's converters do.
                IConvertible convertible => convertible.ToType(parameter.ParameterType, CultureInfo.InvariantCulture),
                _ => throw new NotSupportedException($"The local runner cannot bind {value.GetType().Name} binding data to parameter '{parameter.Name}' ({parameter.ParameterType.Name}) of function {function.Name}."),
            };
        }
        var raw = context.Http?.Request.RouteValues[parameter.Name!]?.ToString();
        if (raw is null)
        {
            return parameter.HasDefaultValue ? parameter.DefaultValue : null;
        }
        return Parse(raw, parameter.ParameterType);
    }

    private static object Parse(string raw, Type type) =>
        type == typeof(string) ? raw
        : type == typeof(int) ? int.Parse(raw, CultureInfo.InvariantCulture)
        : Guid.Parse(raw);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Message}")]
    private static partial void LogTimedOut(ILogger logger, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Function {Function} (Id: '{InvocationId}') failed after its timeout had already ended the invocation.")]
    private static partial void LogEndedAfterTimeout(ILogger logger, Exception? exception, string function, Guid invocationId);
}
