using Azure.Storage.Queues;
using Jobs.LocalRunner.Configuration;
using Jobs.LocalRunner.Functions;
using Jobs.LocalRunner.Triggers;
using Jobs.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Jobs.RunnerTests;

/// <summary>
/// The runner's queue trigger against the WebJobs storage queues extension, read in Azure/azure-sdk-for-net:
/// sdk/storage/Microsoft.Azure.WebJobs.Extensions.Storage.Common/src/Shared/Queues/QueueListener.cs (batches,
/// newBatchThreshold, the 10-minute lease renewed at half of it), .../Shared/Queues/QueueProcessor.cs (poison past
/// maxDequeueCount before running; delete and release ignore pop-receipt mismatch, 404 and 409) and
/// .../Shared/UpdateQueueMessageVisibilityCommand.cs (the renewal). Each test builds a listener directly on a queue
/// of its own (the shared job-submissions queue belongs to one fixture) with a probe function and short timings.
/// </summary>
[TakesAbout(16)]
public sealed class QueueTriggerListenerTests : IAsyncLifetime
{
    private readonly string _queueName = "lq-" + Guid.NewGuid().ToString("N")[..16];
    private readonly QueueProbe _probe = new();
    private readonly CapturingLogger<QueueTriggerListener> _log = new();
    private readonly StorageFaults _faults = new();
    private QueueTriggerListener? _listener;

    private QueueClient Queue => new(TestStorage.ConnectionString, _queueName, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });

    private QueueClient Poison => new(TestStorage.ConnectionString, _queueName + "-poison", new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });

    /// <summary>Short timings: a 2 s lease (renewed every second) and fast polling.</summary>
    private static HostSettings Settings(int batchSize = 16, int? threshold = null, int maxDequeueCount = 5, int leaseSeconds = 2) => new()
    {
        QueueBatchSize = batchSize,
        QueueNewBatchThreshold = threshold,
        QueueMaxDequeueCount = maxDequeueCount,
        QueueMessageLease = TimeSpan.FromSeconds(leaseSeconds),
        QueueMaxPollingInterval = TimeSpan.FromMilliseconds(200),
    };

    private async Task<QueueTriggerListener> StartAsync(HostSettings host, Type? probe = null)
    {
        var method = (probe ?? typeof(QueueProbeFunction)).GetMethod(nameof(QueueProbeFunction.Run))!;
        var function = new FunctionDescriptor("ProbeQueue", method, TriggerKind.Queue, method.GetParameters()[0]);
        // As the runner's own: raw message text (the listener decodes base64 itself), and no client retries, so an
        // injected fault reaches the listener.
        var options = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None };
        options.Retry.MaxRetries = 0;
        options.AddPolicy(_faults, Azure.Core.HttpPipelinePosition.PerRetry);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [QueueProbeFunction.QueueSetting] = _queueName }).Build();
        var services = new ServiceCollection().AddSingleton(_probe).BuildServiceProvider();
        _listener = new QueueTriggerListener(function, new QueueServiceClient(TestStorage.ConnectionString, options), host, configuration,
            ListenerParts.UnusedDurableClient(), TimeProvider.System, services, _log);
        await _listener.StartAsync(CancellationToken.None);
        return _listener;
    }

    public async Task InitializeAsync() => await Queue.CreateIfNotExistsAsync();

    public async Task DisposeAsync()
    {
        if (_listener is not null)
        {
            await _listener.StopAsync(CancellationToken.None);
            _listener.Dispose();
        }
        await Queue.DeleteIfExistsAsync();
        await Poison.DeleteIfExistsAsync();
    }

    /// <summary>Messages in <paramref name="queue"/>; 0 while the listener has not created it yet.</summary>
    private static async Task<int> CountAsync(QueueClient queue) =>
        await queue.ExistsAsync() ? (int)(await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount : 0;

    /// <summary>
    /// QueueListener.ExecuteAsync checks that the queue exists before polling and backs off while it does not; it creates
    /// neither the queue nor the poison queue (QueueProcessor creates the poison queue when it first moves a message
    /// there, AddMessageAndCreateIfNotExistsAsync).
    /// </summary>
    [Fact]
    public async Task MissingQueue_IsNotCreated_TheListenerBacksOffUntilItExists_AndThePoisonQueueWaitsUntilNeeded()
    {
        await Queue.DeleteAsync();
        var listener = await StartAsync(Settings(maxDequeueCount: 1));
        await ListenerParts.WaitUntilAsync(() => _log.Entries.Count(e => e.Message.Contains("does not exist", StringComparison.Ordinal)) >= 2,
            TimeSpan.FromSeconds(20), "the listener finds the queue missing twice");
        Assert.False((await Queue.ExistsAsync()).Value);

        await Queue.CreateAsync();
        await Queue.SendMessageAsync("first");
        await ListenerParts.WaitUntilAsync(() => _probe.Finished.Contains("first"), TimeSpan.FromSeconds(20), "the message is served once the queue exists");
        Assert.False((await Poison.ExistsAsync()).Value);

        await Queue.SendMessageAsync("fail:poisoned");
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (await CountAsync(Poison) == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
        Assert.Equal("fail:poisoned", Assert.Single((await Poison.PeekMessagesAsync(32)).Value).Body.ToString());
        Assert.False(listener.ExecuteTask!.IsCompleted, "the listener stopped");
    }

    /// <summary>
    /// QueueListener.ProcessMessageAsync settles with _shutdownCancellationTokenSource.Token, which StopAsync cancels when
    /// the host's stop token is cancelled: a run that ends at the stop deadline does not get its message released; the
    /// message stays invisible until its lease ends, then is delivered again.
    /// </summary>
    [Fact]
    public async Task StopDeadline_CancelsTheSettleOfARunningMessage_WhichComesBackWhenItsLeaseEnds()
    {
        var listener = await StartAsync(Settings(leaseSeconds: 60));
        await Queue.SendMessageAsync("gate:at-stop");
        await ListenerParts.WaitUntilAsync(() => _probe.Started.Contains("gate:at-stop"), TimeSpan.FromSeconds(20), "the message runs");

        // The stop deadline has already passed: the run sees its stopping token, fails, and its release is cancelled.
        await listener.StopAsync(new CancellationToken(canceled: true));
        await listener.ExecuteTask!;

        Assert.Equal(1, await CountAsync(Queue));
        Assert.Empty((await Queue.PeekMessagesAsync(32)).Value);
        Assert.Contains(_log.Entries, e => e.Message.Contains("cancelled at the stop deadline", StringComparison.Ordinal));
    }

    /// <summary>
    /// The extension's RandomizedExponentialBackoffStrategy (QueueListener: 100 ms minimum, maxPollingInterval maximum,
    /// the minimum as step): each empty poll adds 2^(n-1) steps times a factor in [0.8, 1.2) up to the maximum; a poll
    /// that found messages resets it.
    /// </summary>
    [Fact]
    public void PollingBackoff_GrowsWithJitterToTheMaximum_AndResetsWhenMessagesAreFound()
    {
        var minimum = TimeSpan.FromMilliseconds(100);
        var backoff = new RandomizedExponentialBackoff(minimum, TimeSpan.FromSeconds(2), new Random(7));
        var delays = Enumerable.Range(0, 8).Select(_ => backoff.Next(foundMessages: false)).ToList();

        Assert.Equal(minimum, delays[0]);
        for (var n = 1; n < 4; n++)
        {
            var step = Math.Pow(2, n - 1) * minimum.TotalMilliseconds;
            Assert.InRange(delays[n].TotalMilliseconds, minimum.TotalMilliseconds + (0.8 * step), minimum.TotalMilliseconds + (1.2 * step));
        }
        Assert.Equal(TimeSpan.FromSeconds(2), delays[^1]);
        Assert.Equal(minimum, backoff.Next(foundMessages: true));

        // The jitter: two listeners backing off from the same start do not poll in step.
        var other = new RandomizedExponentialBackoff(minimum, TimeSpan.FromSeconds(2), new Random(8));
        Assert.NotEqual(delays.Take(4), Enumerable.Range(0, 4).Select(_ => other.Next(foundMessages: false)));
    }

    [Fact]
    public async Task DeleteOfAMessageRemovedBehindItsBack_IsIgnored_AndTheNextMessageIsServed()
    {
        var listener = await StartAsync(Settings());
        await Queue.SendMessageAsync("gate:first");
        await ListenerParts.WaitUntilAsync(() => _probe.Started.Contains("gate:first"), TimeSpan.FromSeconds(20), "the first message runs");

        // The message disappears while its function runs: the delete that follows gets 404 MessageNotFound.
        await Queue.ClearMessagesAsync();
        _probe.Open("gate:first");
        await ListenerParts.WaitUntilAsync(() => _probe.Finished.Contains("gate:first"), TimeSpan.FromSeconds(20), "the first message finishes");

        await Queue.SendMessageAsync("second");
        await ListenerParts.WaitUntilAsync(() => _probe.Finished.Contains("second"), TimeSpan.FromSeconds(20), "the next message is served");
        Assert.False(listener.ExecuteTask!.IsCompleted, "the listener stopped");
        Assert.DoesNotContain(_log.Entries, e => e.Level >= LogLevel.Error);
        Assert.Contains(_log.Entries, e => e.Message.Contains("no longer ours", StringComparison.Ordinal));
    }

    [Fact]
    public async Task FailedPoisonSend_IsLogged_TheListenerKeepsServing_AndTheMessageIsPoisonedLaterWithoutRunningAgain()
    {
        var listener = await StartAsync(Settings(maxDequeueCount: 1));
        // The first send to the poison queue fails as a broken connection would.
        _faults.FailNth(r => r.IsQueueSend(_queueName + "-poison"), 1, FaultTiming.BeforeApplied);
        await Queue.SendMessageAsync("fail:once");

        await ListenerParts.WaitUntilAsync(() => _log.Entries.Any(e => e.Level == LogLevel.Error && e.Message.Contains("settling message", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(20), "the failed poison send is logged");
        await Queue.SendMessageAsync("after");
        await ListenerParts.WaitUntilAsync(() => _probe.Finished.Contains("after"), TimeSpan.FromSeconds(20), "the next message is served");

        // After its lease the message comes back with a dequeue count past the maximum: poisoned, not run again.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (await CountAsync(Poison) == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
        var poisoned = Assert.Single((await Poison.PeekMessagesAsync(32)).Value);
        Assert.Equal("fail:once", poisoned.Body.ToString());
        Assert.Single(_probe.Started, m => m == "fail:once");
        Assert.Equal(1, _faults.Injected);
        Assert.False(listener.ExecuteTask!.IsCompleted, "the listener stopped");
    }

    [Fact]
    public async Task FunctionRunningLongerThanTheLease_RunsOnce_AndItsMessageIsDeleted()
    {
        await StartAsync(Settings());
        // Three leases long: without renewal the message would be received and run again meanwhile.
        await Queue.SendMessageAsync("sleep:6000:long");
        await ListenerParts.WaitUntilAsync(() => _probe.Finished.Contains("sleep:6000:long"), TimeSpan.FromSeconds(30), "the long run finishes");
        // Past one more lease: a message left behind (a delete with a stale pop receipt) would be back by then.
        await Task.Delay(TimeSpan.FromSeconds(3));

        Assert.Single(_probe.Started);
        Assert.Equal(0, await CountAsync(Queue));
        Assert.Equal(0, await CountAsync(Poison));
    }

    [Fact]
    public async Task MessageAlreadyPastMaxDequeueCount_GoesToPoison_WithoutRunning()
    {
        await Queue.SendMessageAsync("too-often");
        // Two dequeues by someone else (each lease ends unsettled), so the listener's is the third, past a maximum of 2.
        for (var i = 0; i < 2; i++)
        {
            var taken = await Queue.ReceiveMessageAsync(TimeSpan.FromSeconds(1));
            Assert.NotNull(taken.Value);
            var visibleBy = DateTime.UtcNow.AddSeconds(20);
            while ((await Queue.PeekMessagesAsync(1)).Value.Length == 0 && DateTime.UtcNow < visibleBy)
            {
                await Task.Delay(100);
            }
        }

        await StartAsync(Settings(maxDequeueCount: 2));
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (await CountAsync(Poison) == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        var poisoned = Assert.Single((await Poison.PeekMessagesAsync(32)).Value);
        Assert.Equal("too-often", poisoned.Body.ToString());
        Assert.Empty(_probe.Started);
        Assert.Equal(0, await CountAsync(Queue));
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(0, false)]
    public async Task NextBatch_IsFetched_OnceNoMoreThanTheThresholdStillRun(int threshold, bool fetchedWhileSlowRuns)
    {
        await Queue.SendMessageAsync("gate:slow");
        await Queue.SendMessageAsync("fast-1");
        await StartAsync(Settings(batchSize: 2, threshold: threshold));
        await ListenerParts.WaitUntilAsync(() => _probe.Started.Contains("gate:slow") && _probe.Finished.Contains("fast-1"), TimeSpan.FromSeconds(20),
            "the first batch runs");

        // One message of the batch is still running.
        await Queue.SendMessageAsync("fast-2");
        if (fetchedWhileSlowRuns)
        {
            await ListenerParts.WaitUntilAsync(() => _probe.Finished.Contains("fast-2"), TimeSpan.FromSeconds(20), "the next batch is served");
            Assert.DoesNotContain("gate:slow", _probe.Finished);
        }
        else
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
            Assert.DoesNotContain("fast-2", _probe.Started);
        }
        _probe.Open("gate:slow");
        await ListenerParts.WaitUntilAsync(() => _probe.Finished.Contains("fast-2") && _probe.Finished.Contains("gate:slow"), TimeSpan.FromSeconds(20),
            "everything is served");
    }

    [Fact]
    public async Task Function_GetsTheMessageIdAsId_TheSameOnEveryDelivery()
    {
        await StartAsync(Settings(maxDequeueCount: 2), typeof(QueueProbeWithIdFunction));
        // Fails on both of its deliveries, so it is run twice before it is poisoned.
        var failing = (await Queue.SendMessageAsync("fail:twice")).Value.MessageId;
        var other = (await Queue.SendMessageAsync("once")).Value.MessageId;

        await ListenerParts.WaitUntilAsync(() => _probe.Ids.Count(i => i.Message == "fail:twice") == 2 && _probe.Finished.Contains("once"),
            TimeSpan.FromSeconds(30), "both messages run");
        Assert.All(_probe.Ids.Where(i => i.Message == "fail:twice"), i => Assert.Equal(failing, i.Id));
        Assert.Equal(other, Assert.Single(_probe.Ids, i => i.Message == "once").Id);
        Assert.NotEqual(failing, other);
    }

    [Fact]
    public void BindingData_IsTheQueueExtensionsContract_ReadIgnoringCase()
    {
        var inserted = DateTimeOffset.Parse("2026-12-01T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        var message = Azure.Storage.Queues.Models.QueuesModelFactory.QueueMessage(
            "msg-1", "receipt-1", "ignored", 3, nextVisibleOn: inserted.AddMinutes(10), insertedOn: inserted, expiresOn: inserted.AddDays(7));

        var data = QueueBindingData.Create(message, "the text", DateTimeOffset.UnixEpoch);

        Assert.Equal(["DequeueCount", "ExpirationTime", "Id", "InsertionTime", "NextVisibleTime", "PopReceipt", "QueueTrigger"], data.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("msg-1", data["id"]);
        Assert.Equal("receipt-1", data["popReceipt"]);
        Assert.Equal("the text", data["queueTrigger"]);
        Assert.Equal(3L, data["dequeueCount"]);
        Assert.Equal(inserted, data["InsertionTime"]);
        Assert.Equal(inserted.AddMinutes(10), data["NextVisibleTime"]);
        Assert.Equal(inserted.AddDays(7), data["ExpirationTime"]);

        // Times the service did not send get the extension's defaults.
        var bare = QueueBindingData.Create(Azure.Storage.Queues.Models.QueuesModelFactory.QueueMessage("msg-2", "r", "x", 1), "x", DateTimeOffset.UnixEpoch);
        Assert.Equal(DateTimeOffset.MaxValue, bare["ExpirationTime"]);
        Assert.Equal(DateTimeOffset.MaxValue, bare["NextVisibleTime"]);
        Assert.Equal(DateTimeOffset.UnixEpoch, bare["InsertionTime"]);
    }

    [Fact]
    public void NewBatchThreshold_DefaultsToHalfTheBatchPerProcessor_AndToHalfTheBatchOnConsumption()
    {
        var method = typeof(QueueProbeFunction).GetMethod(nameof(QueueProbeFunction.Run))!;
        var function = new FunctionDescriptor("ProbeQueue", method, TriggerKind.Queue, method.GetParameters()[0]);
        QueueTriggerListener Listener(HostSettings host, string? sku) => new(function, new QueueServiceClient(TestStorage.ConnectionString), host,
            new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [QueueProbeFunction.QueueSetting] = _queueName, ["WEBSITE_SKU"] = sku }).Build(),
            ListenerParts.UnusedDurableClient(), TimeProvider.System, new ServiceCollection().BuildServiceProvider(), _log);

        Assert.Equal(8 * Environment.ProcessorCount, Listener(new HostSettings(), null).NewBatchThreshold);
        Assert.Equal(8, Listener(new HostSettings(), "Dynamic").NewBatchThreshold);
        Assert.Equal(3, Listener(new HostSettings { QueueNewBatchThreshold = 3 }, "Dynamic").NewBatchThreshold);
        Assert.Equal(_queueName, Listener(new HostSettings(), null).QueueName);
    }
}
