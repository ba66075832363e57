using System.Globalization;
using System.Text.Json.Nodes;

namespace Jobs.LocalRunner.Configuration;

/// <summary>The parts of <c>host.json</c> the runner honours, with the Functions host's defaults.</summary>
public sealed record HostSettings
{
    public string RoutePrefix { get; init; } = "api";
    public string HubName { get; init; } = "TestHubName";
    public int PartitionCount { get; init; } = 4;
    public int MaxConcurrentActivities { get; init; } = 10;
    public int MaxConcurrentOrchestrators { get; init; } = 10;
    public TimeSpan DurableMaxQueuePollingInterval { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan DurableWorkItemVisibilityTimeout { get; init; } = TimeSpan.FromMinutes(5);
    public TimeSpan DurableControlQueueVisibilityTimeout { get; init; } = TimeSpan.FromMinutes(5);
    public int QueueMaxDequeueCount { get; init; } = 5;
    public TimeSpan QueueVisibilityTimeout { get; init; } = TimeSpan.Zero;
    public int QueueBatchSize { get; init; } = 16;
    public TimeSpan QueueMaxPollingInterval { get; init; } = TimeSpan.FromMinutes(1);
    public bool QueueMessagesBase64 { get; init; } = true;

    // Queue and timer trigger settings beyond the basics (the triggers' fidelity work).

    /// <summary><c>extensions.queues.newBatchThreshold</c>; null means the extension's default, batchSize / 2 × processors.</summary>
    public int? QueueNewBatchThreshold { get; init; }

    /// <summary>
    /// How long a received queue message stays invisible; it is renewed at half of that while its function runs. The
    /// extension fixes it at 10 minutes (it is not a host.json setting); tests shorten it.
    /// </summary>
    public TimeSpan QueueMessageLease { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary><c>singleton.listenerLockPeriod</c> (15 to 60 s): the blob lease that lets one host run a timer.</summary>
    public TimeSpan ListenerLockPeriod { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary><c>singleton.listenerLockRecoveryPollingInterval</c>: how often a host without a timer's lock tries again.</summary>
    public TimeSpan ListenerLockRecoveryPollingInterval { get; init; } = TimeSpan.FromMinutes(1);

    public static HostSettings Load(string path)
    {
        var root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject
            ?? throw new InvalidDataException($"{path} is not a JSON object.");
        var extensions = root["extensions"];
        var durable = extensions?["durableTask"];
        var queues = extensions?["queues"];
        var defaults = new HostSettings();
        return new HostSettings
        {
            RoutePrefix = (string?)extensions?["http"]?["routePrefix"] ?? defaults.RoutePrefix,
            HubName = (string?)durable?["hubName"] ?? defaults.HubName,
            PartitionCount = (int?)durable?["storageProvider"]?["partitionCount"] ?? defaults.PartitionCount,
            DurableMaxQueuePollingInterval = Time(durable?["storageProvider"]?["maxQueuePollingInterval"]) ?? defaults.DurableMaxQueuePollingInterval,
            DurableWorkItemVisibilityTimeout = Time(durable?["storageProvider"]?["workItemQueueVisibilityTimeout"]) ?? defaults.DurableWorkItemVisibilityTimeout,
            DurableControlQueueVisibilityTimeout = Time(durable?["storageProvider"]?["controlQueueVisibilityTimeout"]) ?? defaults.DurableControlQueueVisibilityTimeout,
            MaxConcurrentActivities = (int?)durable?["maxConcurrentActivityFunctions"] ?? defaults.MaxConcurrentActivities,
            MaxConcurrentOrchestrators = (int?)durable?["maxConcurrentOrchestratorFunctions"] ?? defaults.MaxConcurrentOrchestrators,
            QueueMaxDequeueCount = (int?)queues?["maxDequeueCount"] ?? defaults.QueueMaxDequeueCount,
            QueueVisibilityTimeout = Time(queues?["visibilityTimeout"]) ?? defaults.QueueVisibilityTimeout,
            QueueBatchSize = (int?)queues?["batchSize"] ?? defaults.QueueBatchSize,
            QueueMaxPollingInterval = Time(queues?["maxPollingInterval"]) ?? defaults.QueueMaxPollingInterval,
            QueueMessagesBase64 = !string.Equals((string?)queues?["messageEncoding"], "none", StringComparison.OrdinalIgnoreCase),
            QueueNewBatchThreshold = (int?)queues?["newBatchThreshold"] is { } threshold
                ? (threshold >= 0 ? threshold : throw new InvalidDataException("extensions.queues.newBatchThreshold must not be negative."))
                : null,
            ListenerLockPeriod = LockPeriod(Time(root["singleton"]?["listenerLockPeriod"])) ?? defaults.ListenerLockPeriod,
            ListenerLockRecoveryPollingInterval = Time(root["singleton"]?["listenerLockRecoveryPollingInterval"]) ?? defaults.ListenerLockRecoveryPollingInterval,
        };
    }

    // The host refuses a listener lock period outside 15 to 60 seconds (SingletonOptions).
    private static TimeSpan? LockPeriod(TimeSpan? value) =>
        value is not { } period || (period >= TimeSpan.FromSeconds(15) && period <= TimeSpan.FromSeconds(60))
            ? value
            : throw new InvalidDataException("singleton.listenerLockPeriod must be between 00:00:15 and 00:01:00.");

    private static TimeSpan? Time(JsonNode? node) =>
        node is null ? null : TimeSpan.Parse((string)node!, CultureInfo.InvariantCulture);
}
