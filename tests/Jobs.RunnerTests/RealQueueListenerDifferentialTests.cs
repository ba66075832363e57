extern alias webjobs;

using System.Collections.Concurrent;
using System.Text;
using Azure.Storage.Queues;
using Jobs.LocalRunner.Configuration;
using Jobs.LocalRunner.Functions;
using Jobs.LocalRunner.Triggers;
using Jobs.Testing;
using webjobs::Microsoft.Azure.WebJobs;
using webjobs::Microsoft.Extensions.Hosting;
using WebJobsQueueTrigger = Microsoft.Azure.WebJobs.QueueTriggerAttribute;
using WorkerQueueTrigger = Microsoft.Azure.Functions.Worker.QueueTriggerAttribute;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace Jobs.RunnerTests;

/// <summary>
/// Differential tests: the real WebJobs storage queues extension (Microsoft.Azure.WebJobs.Extensions.Storage.Queues,
/// its <c>QueueListener</c> and <c>QueueProcessor</c>, hosted by the WebJobs SDK's own <c>JobHost</c> in this test) and the
/// runner's <see cref="QueueTriggerListener"/> serve one queue each on Azurite with the same options and the same
/// function; the test sends both the same messages and compares what each did. No expectation is copied from the
/// source: the real component's answer is the expectation.
/// </summary>
public sealed class RealQueueListenerDifferentialTests : IAsyncLifetime
{
    private const int MaxDequeueCount = 2;
    private readonly string _realQueue = "dreal-" + Guid.NewGuid().ToString("N")[..16];
    private readonly string _runnerQueue = "drun-" + Guid.NewGuid().ToString("N")[..16];
    private IHost? _realHost;
    private QueueTriggerListener? _runner;

    /// <summary>What one side did with a message: the dequeue count of each run, in order.</summary>
    private sealed record Outcome(string Body, IReadOnlyList<long> Runs);

    /// <summary>What one side did with a scenario, compared whole.</summary>
    private sealed record Observation(bool PoisonQueueExistedBeforeAFailure, IReadOnlyList<Outcome> Messages, IReadOnlyList<string> PoisonBodies, int LeftInQueue);

    public Task InitializeAsync() => Task.WhenAll(Queue(_realQueue).CreateIfNotExistsAsync(), Queue(_runnerQueue).CreateIfNotExistsAsync());

    public async Task DisposeAsync()
    {
        if (_realHost is not null)
        {
            await _realHost.StopAsync();
            _realHost.Dispose();
        }
        if (_runner is not null)
        {
            await _runner.StopAsync(CancellationToken.None);
            _runner.Dispose();
        }
        foreach (var name in new[] { _realQueue, _runnerQueue })
        {
            await Queue(name).DeleteIfExistsAsync();
            await Queue(name + "-poison").DeleteIfExistsAsync();
        }
    }

    private static QueueClient Queue(string name) => new(TestStorage.ConnectionString, name, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None });

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    [Fact]
    public async Task FailingMessage_RunsMaxDequeueCountTimes_ThenGoesToAPoisonQueueCreatedThen_SameAsTheRealQueueListener()
    {
        await StartRealAsync();
        await StartRunnerAsync();

        var real = await ObserveAsync(_realQueue, "real");
        var runner = await ObserveAsync(_runnerQueue, "runner");

        Assert.Equal(Describe(real), Describe(runner));
        // And the comparison is not vacuous: the scenario poisoned one message after MaxDequeueCount runs.
        Assert.Equal([1L, 2L], real.Messages.Single(m => m.Body == "fail").Runs);
    }

    [Fact]
    public async Task MessageThatIsNotBase64_GoesToPoisonAsItArrived_WithoutRunning_SameAsTheRealQueueListener()
    {
        await StartRealAsync();
        await StartRunnerAsync();
        const string body = "not base64: {\"type\":\"demo\"}";
        await Queue(_realQueue).SendMessageAsync(body);
        await Queue(_runnerQueue).SendMessageAsync(body);

        var real = await PoisonedAsync(_realQueue, "real");
        var runner = await PoisonedAsync(_runnerQueue, "runner");

        Assert.Equal(real, runner);
        Assert.Equal([body], real);
        Assert.DoesNotContain(DifferentialQueueFunction.Runs, r => r.Message.Contains("not base64", StringComparison.Ordinal));
    }

    /// <summary>Waits until <paramref name="queue"/>'s poison queue holds a message; returns its bodies as stored.</summary>
    private static async Task<IReadOnlyList<string>> PoisonedAsync(string queue, string side)
    {
        var poison = Queue(queue + "-poison");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!(await poison.ExistsAsync()).Value || (await poison.GetPropertiesAsync()).Value.ApproximateMessagesCount == 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{side} never poisoned the message.");
            }
            await Task.Delay(100);
        }
        return [.. (await poison.PeekMessagesAsync(32)).Value.Select(m => m.Body.ToString())];
    }

    /// <summary>Sends an ordinary message, then a failing one; reports what the side did with each.</summary>
    private static async Task<Observation> ObserveAsync(string queue, string side)
    {
        await Queue(queue).SendMessageAsync(Base64($"{side}:ok"));
        await ListenerParts.WaitUntilAsync(() => DifferentialQueueFunction.Runs.Any(r => r.Message == $"{side}:ok"), TimeSpan.FromSeconds(30), $"{side} runs the first message");
        var poisonExisted = (await Queue(queue + "-poison").ExistsAsync()).Value;

        await Queue(queue).SendMessageAsync(Base64($"{side}:fail"));
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!(await Queue(queue + "-poison").ExistsAsync()).Value
            || (await Queue(queue + "-poison").GetPropertiesAsync()).Value.ApproximateMessagesCount == 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{side} never poisoned the failing message.");
            }
            await Task.Delay(100);
        }
        var poison = (await Queue(queue + "-poison").PeekMessagesAsync(32)).Value.Select(m => Encoding.UTF8.GetString(Convert.FromBase64String(m.Body.ToString()))).ToList();
        var left = (int)(await Queue(queue).GetPropertiesAsync()).Value.ApproximateMessagesCount;
        var outcomes = new[] { "ok", "fail" }
            .Select(kind => new Outcome(kind, [.. DifferentialQueueFunction.Runs.Where(r => r.Message == $"{side}:{kind}").Select(r => r.DequeueCount)]))
            .ToList();
        return new Observation(poisonExisted, outcomes, [.. poison.Select(p => p[(side.Length + 1)..])], left);
    }

    private static string Describe(Observation o) =>
        $"poison queue before a failure: {o.PoisonQueueExistedBeforeAFailure}; " +
        string.Join("; ", o.Messages.Select(m => $"{m.Body} ran at dequeue counts [{string.Join(",", m.Runs)}]")) +
        $"; poison queue holds [{string.Join(",", o.PoisonBodies)}]; left in queue {o.LeftInQueue}";

    private async Task StartRealAsync()
    {
        _realHost = new HostBuilder()
            .ConfigureAppConfiguration(c => c.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["AzureWebJobsStorage"] = TestStorage.ConnectionString,
                [DifferentialQueueFunction.QueueSetting] = _realQueue,
            }))
            .ConfigureWebJobs(b =>
            {
                b.UseHostId("dq" + Guid.NewGuid().ToString("N")[..16]);
                b.AddAzureStorageQueues(o =>
                {
                    o.BatchSize = 1;
                    o.MaxDequeueCount = MaxDequeueCount;
                    o.VisibilityTimeout = TimeSpan.Zero;
                    o.MaxPollingInterval = TimeSpan.FromMilliseconds(500);
                });
            })
            .ConfigureServices(s => s.AddSingleton<ITypeLocator>(new OneTypeLocator(typeof(RealHostQueueFunction))))
            .Build();
        await _realHost.StartAsync();
    }

    private async Task StartRunnerAsync()
    {
        var method = typeof(RunnerQueueFunction).GetMethod(nameof(RunnerQueueFunction.Run))!;
        var function = new FunctionDescriptor("DifferentialQueue", method, TriggerKind.Queue, method.GetParameters()[0]);
        var host = new HostSettings
        {
            QueueBatchSize = 1,
            QueueMaxDequeueCount = MaxDequeueCount,
            QueueVisibilityTimeout = TimeSpan.Zero,
            QueueMaxPollingInterval = TimeSpan.FromMilliseconds(500),
            FunctionTimeout = null,
        };
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [DifferentialQueueFunction.QueueSetting] = _runnerQueue }).Build();
        var services = new ServiceCollection().BuildServiceProvider();
        _runner = new QueueTriggerListener(function, new QueueServiceClient(TestStorage.ConnectionString, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None }),
            host, configuration, ListenerParts.UnusedDurableClient(), TimeProvider.System, services, NullLogger<QueueTriggerListener>.Instance);
        await _runner.StartAsync(CancellationToken.None);
    }

    private sealed class OneTypeLocator(Type type) : ITypeLocator
    {
        public IReadOnlyList<Type> GetTypes() => [type];
    }
}

/// <summary>The function body both hosts run: it records each run with its dequeue count, and throws for <c>…:fail</c>.</summary>
public static class DifferentialQueueFunction
{
    public const string QueueSetting = "DifferentialQueue";

    public static ConcurrentQueue<(string Message, long DequeueCount)> Runs { get; } = new();

    public static void Run(string message, long dequeueCount)
    {
        Runs.Enqueue((message, dequeueCount));
        if (message.EndsWith(":fail", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"Differential failure for {message}.");
        }
    }
}

/// <summary>The function as the WebJobs SDK indexes it (its own trigger attribute; the dequeue count bound by name).</summary>
public static class RealHostQueueFunction
{
    public static void Run([WebJobsQueueTrigger("%" + DifferentialQueueFunction.QueueSetting + "%")] string message, long dequeueCount) =>
        DifferentialQueueFunction.Run(message, dequeueCount);
}

/// <summary>The same function as an isolated-worker app declares it, for the runner.</summary>
public static class RunnerQueueFunction
{
    public static void Run([WorkerQueueTrigger("%" + DifferentialQueueFunction.QueueSetting + "%")] string message, long dequeueCount) =>
        DifferentialQueueFunction.Run(message, dequeueCount);
}
