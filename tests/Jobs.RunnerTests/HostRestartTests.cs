using Azure.Storage.Queues;
using Jobs.LocalRunner.Configuration;
using Jobs.LocalRunner.Functions;
using Jobs.LocalRunner.Restarts;
using Jobs.LocalRunner.Triggers;
using Jobs.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Jobs.RunnerTests;

/// <summary>
/// The runner's restart mode (<see cref="HostRestarter"/>), one test per trigger, read from the host's source:
/// a storage error settling a queue message escapes the storage queues extension's <c>QueueListener.ProcessMessageAsync</c>
/// to the host's exception handler, which restarts the host (azure-sdk-for-net, Microsoft.Azure.WebJobs.Extensions.Storage
/// .Common/src/Shared/Queues/QueueListener.cs; azure-functions-host WebScriptHostExceptionHandler); a function that has
/// not stopped a grace period after its <c>functionTimeout</c> restarts the worker process, which aborts every other
/// invocation running in it (WebScriptHostExceptionHandler.OnTimeoutExceptionAsync → RestartWorkerWithInvocationIdAsync).
/// Each test runs a real queue listener on a queue of its own (the shared job-submissions queue belongs to one fixture),
/// with a 2 s lease so an aborted message comes back quickly.
/// </summary>
[TakesAbout(14)]
public sealed class HostRestartTests : IAsyncLifetime
{
    private readonly string _queueName = "rq-" + Guid.NewGuid().ToString("N")[..16];
    private readonly QueueProbe _probe = new();
    private readonly CapturingLogger<QueueTriggerListener> _listenerLog = new();
    private readonly CapturingLogger<HostRestarter> _restartLog = new();
    private readonly StorageFaults _faults = new();
    private HostRestarter? _restarter;

    private QueueClient Queue => new(TestStorage.ConnectionString, _queueName, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });

    /// <summary>A restarter over one probe listener (a failed message is visible again at once).</summary>
    private async Task<HostRestarter> StartAsync(TimeSpan? functionTimeout = null, bool restarts = true)
    {
        var host = new HostSettings
        {
            QueueBatchSize = 16,
            QueueMaxDequeueCount = 5,
            QueueMessageLease = TimeSpan.FromSeconds(2),
            QueueMaxPollingInterval = TimeSpan.FromMilliseconds(200),
            FunctionTimeout = functionTimeout,
        };
        var method = typeof(QueueProbeFunction).GetMethod(nameof(QueueProbeFunction.Run))!;
        var function = new FunctionDescriptor("ProbeQueue", method, TriggerKind.Queue, method.GetParameters()[0]);
        // As the runner's own queue client: raw text, no client retries, so an injected fault reaches the listener.
        var options = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None };
        options.Retry.MaxRetries = 0;
        options.AddPolicy(_faults, Azure.Core.HttpPipelinePosition.PerRetry);
        var queues = new QueueServiceClient(TestStorage.ConnectionString, options);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            [QueueProbeFunction.QueueSetting] = _queueName,
            [HostRestarter.Setting] = restarts ? null : "false",
        }).Build();
        var services = new ServiceCollection().AddSingleton(_probe).AddSingleton(host)
            .AddSingleton<ILoggerFactory>(Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
        // The invoker finds the restarter in the services, as in the runner (one restarter per host).
        services.AddSingleton(sp => _restarter!);
        var provider = services.BuildServiceProvider();
        _restarter = new HostRestarter(null,
            [() => new QueueTriggerListener(function, queues, host, configuration, ListenerParts.UnusedDurableClient(), TimeProvider.System, provider, _listenerLog, _restarter)],
            configuration, _restartLog);
        await _restarter.StartAsync(CancellationToken.None);
        return _restarter;
    }

    public async Task InitializeAsync() => await Queue.CreateIfNotExistsAsync();

    public async Task DisposeAsync()
    {
        foreach (var message in _probe.Started)
        {
            _probe.Open(message);
        }
        if (_restarter is not null)
        {
            await _restarter.StopAsync(CancellationToken.None);
            await _restarter.DisposeAsync();
        }
        await Queue.DeleteIfExistsAsync();
        await new QueueClient(TestStorage.ConnectionString, _queueName + "-poison").DeleteIfExistsAsync();
    }

    private static async Task<int> CountAsync(QueueClient queue) => (int)(await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount;

    [Fact]
    public async Task StorageErrorSettlingAQueueMessage_RestartsTheHost_AbortingWhatRuns_AndBothMessagesRunAgainAfterTheirLease()
    {
        var restarter = await StartAsync();
        var first = restarter.Listeners.Single();
        await Queue.SendMessageAsync("gate:running");
        await ListenerParts.WaitUntilAsync(() => _probe.Started.Contains("gate:running"), TimeSpan.FromSeconds(20), "the long message runs");

        // The delete that settles the next message fails as a broken connection would.
        _faults.FailNth(r => r.Method == "DELETE" && r.Path.Contains($"/{_queueName}/messages/", StringComparison.Ordinal), 1, FaultTiming.BeforeApplied);
        await Queue.SendMessageAsync("settled");

        await ListenerParts.WaitUntilAsync(() => restarter.Restarts == 1, TimeSpan.FromSeconds(20), "the host restarts");
        Assert.Contains(_restartLog.Entries, e => e.Level == LogLevel.Error && e.Message.Contains("settling queue message", StringComparison.Ordinal)
            && e.Message.Contains("Restarting the host (restart 1)", StringComparison.Ordinal));
        Assert.NotSame(first, restarter.Listeners.Single());
        // The message that was running saw its cancellation token at once, as when the worker process goes away.
        await ListenerParts.WaitUntilAsync(() => _probe.Cancelled.Contains("gate:running"), TimeSpan.FromSeconds(20), "the running message is aborted");

        // Neither was settled: both come back when their leases end, and the fresh listener runs them again.
        _probe.Open("gate:running");
        await ListenerParts.WaitUntilAsync(() => _probe.Finished.Count(m => m == "gate:running") == 1 && _probe.Finished.Count(m => m == "settled") == 2,
            TimeSpan.FromSeconds(30), "both messages run again after the restart");
        await ListenerParts.WaitUntilAsync(() => CountAsync(Queue).GetAwaiter().GetResult() == 0, TimeSpan.FromSeconds(20), "both are deleted");
        Assert.Equal(2, _probe.Started.Count(m => m == "gate:running"));
        Assert.Equal(1, restarter.Restarts);
    }

    [Fact]
    public async Task StorageErrorRenewingAQueueMessage_RestartsTheHost_AbortingItsRun_AndItRunsAgainAfterItsLease()
    {
        // UpdateQueueMessageVisibilityCommand rethrows a failed renewal (other than a lost message) to the host's
        // exception handler. The first update of this queue's messages is the running message's renewal (half the 2 s lease).
        var restarter = await StartAsync();
        var first = restarter.Listeners.Single();
        _faults.FailNth(r => r.Method == "PUT" && r.Path.Contains($"/{_queueName}/messages/", StringComparison.Ordinal), 1, FaultTiming.BeforeApplied);
        await Queue.SendMessageAsync("gate:renewed");

        await ListenerParts.WaitUntilAsync(() => restarter.Restarts == 1, TimeSpan.FromSeconds(20), "the host restarts");
        Assert.Contains(_restartLog.Entries, e => e.Level == LogLevel.Error && e.Message.Contains("renewing the visibility of queue message", StringComparison.Ordinal)
            && e.Message.Contains("Restarting the host (restart 1)", StringComparison.Ordinal));
        Assert.NotSame(first, restarter.Listeners.Single());
        await ListenerParts.WaitUntilAsync(() => _probe.Cancelled.Contains("gate:renewed"), TimeSpan.FromSeconds(20), "the running message is aborted");
        Assert.DoesNotContain("gate:renewed", _probe.Finished);

        // Not settled and no longer renewed: it comes back when its lease ends and the fresh listener runs it again.
        _probe.Open("gate:renewed");
        await ListenerParts.WaitUntilAsync(() => _probe.Finished.Contains("gate:renewed"), TimeSpan.FromSeconds(30), "the message runs again after the restart");
        await ListenerParts.WaitUntilAsync(() => CountAsync(Queue).GetAwaiter().GetResult() == 0, TimeSpan.FromSeconds(20), "it is deleted");
        Assert.Equal(2, _probe.Started.Count(m => m == "gate:renewed"));
        Assert.Equal(1, restarter.Restarts);
    }

    [Fact]
    public async Task StorageErrorSettlingAQueueMessage_WithRestartsOff_IsLogged_AndTheSameListenerKeepsServing()
    {
        var restarter = await StartAsync(restarts: false);
        var first = restarter.Listeners.Single();
        _faults.FailNth(r => r.Method == "DELETE" && r.Path.Contains($"/{_queueName}/messages/", StringComparison.Ordinal), 1, FaultTiming.BeforeApplied);
        await Queue.SendMessageAsync("settled");
        await ListenerParts.WaitUntilAsync(() => _listenerLog.Entries.Any(e => e.Level == LogLevel.Error && e.Message.Contains("settling message", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(20), "the failed settle is logged");
        await Queue.SendMessageAsync("after");
        await ListenerParts.WaitUntilAsync(() => _probe.Finished.Contains("after"), TimeSpan.FromSeconds(20), "the next message is served");

        Assert.Equal(0, restarter.Restarts);
        Assert.Same(first, restarter.Listeners.Single());
        Assert.Empty(_restartLog.Entries);
    }

    [Fact]
    public async Task FunctionTimeout_OfAFunctionThatIgnoresItsToken_RestartsTheWorker_AbortingAnotherRunningInvocation()
    {
        // The other invocation starts once the stubborn one has timed out, so the restart (after the 2 s grace) comes
        // well before its own timeout would. The stubborn message's next delivery returns at once.
        var restarter = await StartAsync(functionTimeout: TimeSpan.FromSeconds(8));
        var listener = restarter.Listeners.Single();
        await Queue.SendMessageAsync("stubborn:ignores-its-token");
        await ListenerParts.WaitUntilAsync(() => _probe.Started.Contains("stubborn:ignores-its-token"), TimeSpan.FromSeconds(20), "the stubborn message runs");
        await ListenerParts.WaitUntilAsync(() => _listenerLog.Entries.Any(e => e.Message.Contains("failed on message", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(30), "the stubborn invocation times out and fails");
        Assert.Equal(0, restarter.WorkerRestarts);
        await Queue.SendMessageAsync("gate:bystander");
        await ListenerParts.WaitUntilAsync(() => _probe.Started.Contains("gate:bystander"), TimeSpan.FromSeconds(20), "the other message runs");

        await ListenerParts.WaitUntilAsync(() => restarter.WorkerRestarts == 1, TimeSpan.FromSeconds(20), "the worker restarts");
        Assert.Contains(_restartLog.Entries, e => e.Level == LogLevel.Error && e.Message.Contains("A function timeout has occurred", StringComparison.Ordinal)
            && e.Message.Contains("Restarting the worker (worker restart 1)", StringComparison.Ordinal) && e.Exception is Microsoft.Azure.WebJobs.Host.FunctionTimeoutException);
        await ListenerParts.WaitUntilAsync(() => _probe.Cancelled.Contains("gate:bystander"), TimeSpan.FromSeconds(20), "the other invocation is aborted");
        Assert.DoesNotContain("gate:bystander", _probe.Finished);

        // The host's listener lives on and settles the aborted run as a failure: released, run again, and this time done.
        _probe.Open("gate:bystander");
        await ListenerParts.WaitUntilAsync(() => _probe.Finished.Contains("gate:bystander"), TimeSpan.FromSeconds(30), "the aborted message runs again");
        Assert.Equal(2, _probe.Started.Count(m => m == "gate:bystander"));
        Assert.Contains(_listenerLog.Entries, e => e.Message.Contains("failed on message", StringComparison.Ordinal) && e.Exception is OperationCanceledException);
        Assert.Same(listener, restarter.Listeners.Single());
        Assert.Equal(0, restarter.Restarts);
    }
}
