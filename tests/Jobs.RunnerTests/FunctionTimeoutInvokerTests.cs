using System.Reflection;
using Jobs.LocalRunner.Configuration;
using Jobs.LocalRunner.Functions;
using Jobs.Testing;
using Microsoft.Azure.WebJobs.Host;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.RunnerTests;

/// <summary>
/// functionTimeout as the WebJobs SDK's FunctionExecutor applies it with ThrowOnTimeout (which the Functions host sets,
/// Azure/azure-functions-host src/WebJobs.Script/Config/JobHostFunctionTimeoutOptionsSetup.cs): at the timeout the
/// function's token is cancelled and the invocation fails at once with FunctionTimeoutException, whether or not the
/// function stops. Every trigger kind is timed; orchestrator episodes are not timed by the runner (see
/// docs/host-fidelity.md: the host aborts and replays a timed-out episode instead of failing it).
/// </summary>
[TakesAbout(10)]
public sealed class FunctionTimeoutInvokerTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(1);

    private static ServiceProvider Services(TimeSpan? timeout) =>
        new ServiceCollection().AddLogging().AddSingleton(new HostSettings { FunctionTimeout = timeout }).BuildServiceProvider();

    private static FunctionDescriptor Describe(string method, TriggerKind kind)
    {
        var info = typeof(SlowFunctions).GetMethod(method, BindingFlags.Public | BindingFlags.Static)!;
        return new FunctionDescriptor(method, info, kind, info.GetParameters()[0]);
    }

    private static InvocationContext Context(IServiceProvider services, SlowFunctions.Probe probe) =>
        new(services, probe, null!, CancellationToken.None);

    [Theory]
    [InlineData(TriggerKind.Queue)]
    [InlineData(TriggerKind.Timer)]
    [InlineData(TriggerKind.Activity)]
    public async Task AFunctionPastTheTimeout_FailsWithTheHostsMessage_AndSeesItsTokenCancelled(TriggerKind kind)
    {
        using var services = Services(Limit);
        var probe = new SlowFunctions.Probe();
        var error = await Assert.ThrowsAsync<FunctionTimeoutException>(() =>
            FunctionInvoker.InvokeAsync(Describe(nameof(SlowFunctions.UntilCancelled), kind), Context(services, probe)));
        // Azure/azure-webjobs-sdk src/Microsoft.Azure.WebJobs.Host/Executors/FunctionExecutor.cs, TryHandleTimeoutAsync.
        Assert.Equal("Timeout value of 00:00:01 was exceeded by function: Functions.UntilCancelled", error.Message);
        Assert.Equal("Microsoft.Azure.WebJobs.Host.FunctionTimeoutException", error.GetType().FullName);
        Assert.True(await probe.Cancelled.Task.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task AFunctionThatIgnoresItsToken_StillFailsAtTheTimeout()
    {
        using var services = Services(Limit);
        var probe = new SlowFunctions.Probe();
        var error = await Assert.ThrowsAsync<FunctionTimeoutException>(() =>
            FunctionInvoker.InvokeAsync(Describe(nameof(SlowFunctions.UntilReleased), TriggerKind.Queue), Context(services, probe)));
        // The invocation failed while the function still ran: it ends only now, when the test lets it.
        Assert.False(error.Task.IsCompleted);
        probe.Release.SetResult();
        await error.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task AFunctionWithinTheTimeout_ReturnsItsResult()
    {
        using var services = Services(TimeSpan.FromMinutes(1));
        var probe = new SlowFunctions.Probe();
        probe.Release.SetResult();
        Assert.Equal("released", await FunctionInvoker.InvokeAsync(Describe(nameof(SlowFunctions.UntilReleased), TriggerKind.Queue), Context(services, probe)));
    }

    [Fact]
    public async Task Orchestrators_AndAnUnlimitedTimeout_AreNotTimed()
    {
        using var services = Services(Limit);
        foreach (var (invoke, name) in new (Func<FunctionDescriptor, InvocationContext, Task<object?>> Invoke, string Name)[]
        {
            (FunctionInvoker.InvokeOrchestratorAsync, "orchestrator entry"),
            (FunctionInvoker.InvokeAsync, "orchestrator kind"),
        })
        {
            var probe = new SlowFunctions.Probe();
            var running = invoke(Describe(nameof(SlowFunctions.UntilReleased), TriggerKind.Orchestration), Context(services, probe));
            await Task.Delay(Limit * 2);
            Assert.False(running.IsCompleted, name);
            probe.Release.SetResult();
            Assert.Equal("released", await running);
        }

        using var unlimited = Services(null);
        var slow = new SlowFunctions.Probe();
        var queued = FunctionInvoker.InvokeAsync(Describe(nameof(SlowFunctions.UntilReleased), TriggerKind.Queue), Context(unlimited, slow));
        await Task.Delay(Limit * 2);
        Assert.False(queued.IsCompleted);
        slow.Release.SetResult();
        Assert.Equal("released", await queued);
    }

    [Fact]
    public async Task TheOrchestratorEntry_RefusesOtherKinds()
    {
        using var services = Services(Limit);
        await Assert.ThrowsAsync<ArgumentException>(() => FunctionInvoker.InvokeOrchestratorAsync(
            Describe(nameof(SlowFunctions.UntilReleased), TriggerKind.Activity), Context(services, new SlowFunctions.Probe())));
    }
}

/// <summary>Function-shaped methods for <see cref="FunctionTimeoutInvokerTests"/>: the trigger value is a probe.</summary>
public static class SlowFunctions
{
    public sealed class Probe
    {
        public TaskCompletionSource<bool> Cancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public static async Task<string> UntilCancelled(Probe probe, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return "never";
        }
        finally
        {
            probe.Cancelled.TrySetResult(cancellationToken.IsCancellationRequested);
        }
    }

    public static async Task<string> UntilReleased(Probe probe, CancellationToken cancellationToken)
    {
        _ = cancellationToken;
        await probe.Release.Task;
        return "released";
    }
}
