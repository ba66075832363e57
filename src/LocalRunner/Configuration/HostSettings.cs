using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;

namespace Jobs.LocalRunner.Configuration;

/// <summary>
/// The parts of <c>host.json</c> the runner honours, read the way the Functions host reads them: keys are
/// case-insensitive configuration keys under <c>AzureFunctionsJobHost</c>, app settings named
/// <c>AzureFunctionsJobHost__…</c> override them, <c>%Setting%</c> hub names are resolved, and values are validated
/// with the Durable extension's own rules. Defaults are the host's for a non-Consumption plan (what Core Tools runs).
/// </summary>
public sealed partial record HostSettings
{
    /// <summary>The configuration section host.json is read into (the host's <c>ConfigurationSectionNames.JobHost</c>).</summary>
    public const string JobHostSection = "AzureFunctionsJobHost";

    /// <summary>Test-only settings the Functions host does not have (see README); they bypass the extension's limits.</summary>
    public const string TestOverridesSection = "Jobs:Runner:TestOverrides";

    /// <summary>The connection name the Durable extension uses when host.json names none (AzureWebJobsStorage).</summary>
    public const string DefaultConnectionName = "Storage";

    public string RoutePrefix { get; init; } = "api";

    /// <summary>How long a function may run; null means unlimited (<c>functionTimeout: "-1"</c>).</summary>
    public TimeSpan? FunctionTimeout { get; init; } = TimeSpan.FromMinutes(30);

    public string HubName { get; init; } = "TestHubName";

    /// <summary>The connection the task hub lives on (<c>storageProvider.connectionName</c>).</summary>
    public string StorageConnectionName { get; init; } = DefaultConnectionName;

    public int PartitionCount { get; init; } = 4;

    // The extension's defaults outside Consumption: 10 per processor (AzureStorageDurabilityProviderFactory).
    public int MaxConcurrentActivities { get; init; } = 10 * Environment.ProcessorCount;
    public int MaxConcurrentOrchestrators { get; init; } = 10 * Environment.ProcessorCount;
    public TimeSpan DurableMaxQueuePollingInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// <c>extendedSessionsEnabled</c>: an orchestration stays loaded between its episodes, so it is not read back from
    /// the History table each time (the extension's default: off).
    /// </summary>
    public bool ExtendedSessionsEnabled { get; init; }

    /// <summary>
    /// <c>storageProvider.controlQueueBufferThreshold</c>: how many control-queue messages are buffered before the
    /// dispatcher stops fetching. The extension's default is 256 (AzureStorageOptions), not DurableTask.AzureStorage's 64.
    /// </summary>
    public int ControlQueueBufferThreshold { get; init; } = 256;

    /// <summary><c>overridableExistingInstanceStates</c>: which existing instances a start with the same id replaces.</summary>
    public OverridableStates OverridableExistingInstanceStates { get; init; } = OverridableStates.NonRunningStates;

    /// <summary>
    /// <c>throwStatusExceptionsOnRaiseEvent</c>: whether raising an event to an unknown or ended instance is refused
    /// (true) or the event sent anyway and dropped (false). Unset is the Azure Storage provider's
    /// <c>CheckStatusBeforeRaiseEvent</c>, true.
    /// </summary>
    public bool ThrowStatusExceptionsOnRaiseEvent { get; init; } = true;

    /// <summary>
    /// <c>useGracefulShutdown</c>: whether a stop lets running activities finish (true) or is forced (false, the
    /// extension's default: DurableTaskExtension.StopTaskHubWorkerIfIdleAsync calls TaskHubWorker.StopAsync(isForced:
    /// !UseGracefulShutdown)). Forced, activities see their cancellation token at once and their work items come back
    /// after the visibility timeout.
    /// </summary>
    public bool UseGracefulShutdown { get; init; }

    /// <summary>
    /// <c>gracefulShutdownTimeout</c> (default 30 s), the runner's own setting: with <see cref="UseGracefulShutdown"/>,
    /// how long running activities may take to finish after a stop begins; what is left then is released. The extension
    /// binds its options from that section and ignores names it does not know, so it is harmless in Azure.
    /// </summary>
    public TimeSpan GracefulShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The app setting that overrides <see cref="GracefulShutdownTimeout"/> (tests shorten it).</summary>
    public const string GracefulShutdownTimeoutKey = JobHostSection + ":extensions:durableTask:gracefulShutdownTimeout";

    /// <summary><c>extendedSessionIdleTimeoutInSeconds</c> (default 30): how long an idle session stays loaded.</summary>
    public TimeSpan ExtendedSessionIdleTimeout { get; init; } = TimeSpan.FromSeconds(30);
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

    /// <summary>The test-only overrides that were applied, by setting name (empty in normal use).</summary>
    public IReadOnlyList<string> TestOverridesApplied { get; init; } = [];

    /// <summary>
    /// Reads host.json at <paramref name="path"/> with the app settings in <paramref name="appSettings"/> (which
    /// resolve <c>%Setting%</c> and may override any value as <c>AzureFunctionsJobHost:…</c>). Throws, as the host
    /// and the extension do at start-up, for a value they would refuse.
    /// </summary>
    public static HostSettings Load(string path, IConfiguration appSettings)
    {
        var jobHost = Read(path, appSettings).GetSection(JobHostSection);
        var durable = jobHost.GetSection("extensions:durableTask");
        var storage = durable.GetSection("storageProvider");
        var queues = jobHost.GetSection("extensions:queues");
        var defaults = new HostSettings();

        var providerType = storage["type"];
        if (providerType is not null && !string.Equals(providerType, "AzureStorage", StringComparison.OrdinalIgnoreCase))
        {
            throw new NotSupportedException($"host.json: the local runner runs the AzureStorage durability provider only, not '{providerType}'.");
        }

        var settings = new HostSettings
        {
            RoutePrefix = jobHost["extensions:http:routePrefix"] ?? defaults.RoutePrefix,
            FunctionTimeout = FunctionTimeoutOf(jobHost["functionTimeout"], defaults.FunctionTimeout),
            HubName = ResolveHubName(durable["hubName"], appSettings) ?? defaults.HubName,
            StorageConnectionName = storage["connectionName"] ?? storage["connectionStringName"] ?? defaults.StorageConnectionName,
            PartitionCount = Int(storage, "partitionCount") ?? defaults.PartitionCount,
            DurableMaxQueuePollingInterval = Time(storage, "maxQueuePollingInterval") ?? defaults.DurableMaxQueuePollingInterval,
            DurableWorkItemVisibilityTimeout = Time(storage, "workItemQueueVisibilityTimeout") ?? defaults.DurableWorkItemVisibilityTimeout,
            DurableControlQueueVisibilityTimeout = Time(storage, "controlQueueVisibilityTimeout") ?? defaults.DurableControlQueueVisibilityTimeout,
            MaxConcurrentActivities = Int(durable, "maxConcurrentActivityFunctions") ?? defaults.MaxConcurrentActivities,
            MaxConcurrentOrchestrators = Int(durable, "maxConcurrentOrchestratorFunctions") ?? defaults.MaxConcurrentOrchestrators,
            ExtendedSessionsEnabled = Bool(durable, "extendedSessionsEnabled") ?? defaults.ExtendedSessionsEnabled,
            ControlQueueBufferThreshold = Int(storage, "controlQueueBufferThreshold") ?? defaults.ControlQueueBufferThreshold,
            OverridableExistingInstanceStates = Overridable(durable["overridableExistingInstanceStates"]) ?? defaults.OverridableExistingInstanceStates,
            ThrowStatusExceptionsOnRaiseEvent = Bool(durable, "throwStatusExceptionsOnRaiseEvent") ?? defaults.ThrowStatusExceptionsOnRaiseEvent,
            UseGracefulShutdown = Bool(durable, "useGracefulShutdown") ?? defaults.UseGracefulShutdown,
            GracefulShutdownTimeout = Time(durable, "gracefulShutdownTimeout") is { } grace
                ? (grace >= TimeSpan.Zero ? grace : throw new InvalidDataException("extensions.durableTask.gracefulShutdownTimeout must not be negative."))
                : defaults.GracefulShutdownTimeout,
            // As AzureStorageDurabilityProviderFactory: TimeSpan.FromSeconds(Math.Max(ExtendedSessionIdleTimeoutInSeconds, 0)).
            ExtendedSessionIdleTimeout = Int(durable, "extendedSessionIdleTimeoutInSeconds") is { } idle
                ? TimeSpan.FromSeconds(Math.Max(idle, 0))
                : defaults.ExtendedSessionIdleTimeout,
            QueueMaxDequeueCount = Int(queues, "maxDequeueCount") ?? defaults.QueueMaxDequeueCount,
            QueueVisibilityTimeout = Time(queues, "visibilityTimeout") ?? defaults.QueueVisibilityTimeout,
            QueueBatchSize = Int(queues, "batchSize") ?? defaults.QueueBatchSize,
            QueueMaxPollingInterval = Time(queues, "maxPollingInterval") ?? defaults.QueueMaxPollingInterval,
            QueueMessagesBase64 = !string.Equals(queues["messageEncoding"], "none", StringComparison.OrdinalIgnoreCase),
            QueueNewBatchThreshold = Int(queues, "newBatchThreshold") is { } threshold
                ? (threshold >= 0 ? threshold : throw new InvalidDataException("extensions.queues.newBatchThreshold must not be negative."))
                : null,
            ListenerLockPeriod = LockPeriod(Time(jobHost.GetSection("singleton"), "listenerLockPeriod")) ?? defaults.ListenerLockPeriod,
            ListenerLockRecoveryPollingInterval = Time(jobHost.GetSection("singleton"), "listenerLockRecoveryPollingInterval") ?? defaults.ListenerLockRecoveryPollingInterval,
        };
        settings.ValidateDurable();
        RefuseUnsupported(durable);
        return settings.WithTestOverrides(appSettings.GetSection(TestOverridesSection));
    }

    /// <summary>
    /// host.json flattened into configuration keys under <c>AzureFunctionsJobHost</c> (as the host's
    /// HostJsonFileConfigurationSource does), then the app's <c>AzureFunctionsJobHost:…</c> settings over it.
    /// </summary>
    private static IConfiguration Read(string path, IConfiguration appSettings)
    {
        var text = File.ReadAllText(path);
        var root = JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true })
            as JsonObject ?? throw new InvalidDataException($"{path} is not a JSON object.");
        var flattened = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        Flatten(root, JobHostSection, flattened);
        // The host refuses a host.json without "version": "2.0" (HostJsonFileConfigurationSource.InitializeHostConfig).
        var version = flattened.GetValueOrDefault(JobHostSection + ":version");
        if (version != "2.0")
        {
            throw new InvalidDataException(string.IsNullOrEmpty(version)
                ? $"{path} is missing the required 'version' property (\"2.0\")."
                : $"'{version}' is an invalid value for host.json 'version' property: use \"2.0\".");
        }
        var overrides = appSettings.GetSection(JobHostSection).AsEnumerable().Where(pair => pair.Value is not null);
        return new ConfigurationBuilder().AddInMemoryCollection(flattened).AddInMemoryCollection(overrides).Build();
    }

    private static void Flatten(JsonNode? node, string path, Dictionary<string, string?> into)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, child) in obj)
                {
                    Flatten(child, path + ConfigurationPath.KeyDelimiter + name, into);
                }
                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    Flatten(array[i], path + ConfigurationPath.KeyDelimiter + i.ToString(CultureInfo.InvariantCulture), into);
                }
                break;
            case JsonValue value:
                into[path] = value.GetValueKind() switch
                {
                    JsonValueKind.String => value.GetValue<string>(),
                    JsonValueKind.True => bool.TrueString,
                    JsonValueKind.False => bool.FalseString,
                    _ => value.ToJsonString(),
                };
                break;
            default:
                into[path] = "";
                break;
        }
    }

    /// <summary>
    /// As the Durable extension's <c>DurableTaskOptions.ResolveAppSettingOptions</c> (INameResolver.TryResolveWholeString):
    /// a hub name that is exactly <c>%Name%</c> becomes the app setting <c>Name</c>; one that does not resolve stays as
    /// written and then fails the hub name rule, as under the host.
    /// </summary>
    private static string? ResolveHubName(string? configured, IConfiguration appSettings)
    {
        if (configured is { Length: > 2 } && configured[0] == '%' && configured[^1] == '%' && configured.IndexOf('%', 1) == configured.Length - 1
            && appSettings[configured[1..^1]] is { } resolved)
        {
            return resolved;
        }
        return configured;
    }

    /// <summary>
    /// The extension's start-up checks (Azure/azure-functions-durable-extension: AzureStorageOptions.Validate and
    /// ValidateHubName, DurableTaskOptions.Validate). The work-item visibility timeout has no limit there.
    /// </summary>
    private void ValidateDurable()
    {
        // ValidateHubName: a valid blob, container, table and queue name, at most 50 characters — alphanumeric, starting with a letter.
        if (!HubNameRule().IsMatch(HubName))
        {
            throw new ArgumentException($"Task hub name '{HubName}' should contain only alphanumeric characters, start with a letter, and have length between 3 and 45.");
        }
        if (PartitionCount is < 1 or > 16)
        {
            throw new InvalidOperationException("PartitionCount must be an integer value between 1 and 16.");
        }
        if (DurableControlQueueVisibilityTimeout < TimeSpan.FromMinutes(1) || DurableControlQueueVisibilityTimeout > TimeSpan.FromMinutes(60))
        {
            throw new InvalidOperationException("ControlQueueVisibilityTimeout must be between 1 and 60 minutes.");
        }
        if (DurableMaxQueuePollingInterval <= TimeSpan.Zero)
        {
            throw new InvalidOperationException("MaxQueuePollingInterval must be non-negative.");
        }
        if (MaxConcurrentActivities <= 0)
        {
            throw new InvalidOperationException("MaxConcurrentActivityFunctions must be a positive integer value.");
        }
        if (MaxConcurrentOrchestrators <= 0)
        {
            throw new InvalidOperationException("MaxConcurrentOrchestratorFunctions must be a positive integer value.");
        }
    }

    /// <summary>
    /// Durable settings the runner does not implement stop the start, named, rather than being ignored: an app that
    /// sets them would behave differently in Azure. <c>defaultVersion</c> stamps new orchestrations with a version
    /// and, with the worker's versioning options, decides which versions a worker runs; the runner starts every
    /// instance unversioned (docs/host-fidelity.md).
    /// </summary>
    private static void RefuseUnsupported(IConfiguration durable)
    {
        if (!string.IsNullOrEmpty(durable["defaultVersion"]))
        {
            throw new NotSupportedException(
                "host.json: extensions.durableTask.defaultVersion is not supported by the local runner (it starts every orchestration unversioned); remove the setting to run locally.");
        }
    }

    // As the configuration binder reads the extension's OverridableStates: the member name, ignoring case.
    private static OverridableStates? Overridable(string? configured) =>
        configured is null
            ? null
            : Enum.TryParse<OverridableStates>(configured, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed)
                ? parsed
                : throw new InvalidDataException(
                    $"host.json: extensions.durableTask.overridableExistingInstanceStates must be AnyState or NonRunningStates, not '{configured}'.");

    /// <summary>
    /// TEST-ONLY: <c>Jobs:Runner:TestOverrides:{WorkItemVisibilityTimeout,ControlQueueVisibilityTimeout}</c> replace the
    /// durable queues' visibility timeouts after validation, so a crash test need not wait the 1-minute minimum the
    /// extension enforces. The Functions host has no such setting.
    /// </summary>
    private HostSettings WithTestOverrides(IConfiguration overrides)
    {
        var workItem = Time(overrides, "WorkItemVisibilityTimeout");
        var control = Time(overrides, "ControlQueueVisibilityTimeout");
        var applied = new List<string>();
        if (workItem is not null)
        {
            applied.Add($"{TestOverridesSection}:WorkItemVisibilityTimeout={workItem}");
        }
        if (control is not null)
        {
            applied.Add($"{TestOverridesSection}:ControlQueueVisibilityTimeout={control}");
        }
        return this with
        {
            DurableWorkItemVisibilityTimeout = workItem ?? DurableWorkItemVisibilityTimeout,
            DurableControlQueueVisibilityTimeout = control ?? DurableControlQueueVisibilityTimeout,
            TestOverridesApplied = applied,
        };
    }

    /// <summary>
    /// As the host's ScriptJobHostOptionsSetup.ConfigureFunctionTimeout outside Consumption: unset is 30 minutes,
    /// <c>-1</c> (one negative day when parsed) is unlimited, anything else must be at least one second.
    /// </summary>
    private static TimeSpan? FunctionTimeoutOf(string? configured, TimeSpan? fallback)
    {
        if (configured is null)
        {
            return fallback;
        }
        var timeout = ParseTime("functionTimeout", configured);
        if (timeout == TimeSpan.FromDays(-1))
        {
            return null;
        }
        if (timeout < TimeSpan.FromSeconds(1))
        {
            throw new ArgumentException($"FunctionTimeout must be greater than {TimeSpan.FromSeconds(1)} and less than {TimeSpan.MaxValue}.");
        }
        return timeout;
    }

    // The host refuses a listener lock period outside 15 to 60 seconds (SingletonOptions).
    private static TimeSpan? LockPeriod(TimeSpan? value) =>
        value is not { } period || (period >= TimeSpan.FromSeconds(15) && period <= TimeSpan.FromSeconds(60))
            ? value
            : throw new InvalidDataException("singleton.listenerLockPeriod must be between 00:00:15 and 00:01:00.");

    private static int? Int(IConfiguration section, string key) =>
        section[key] is { } value
            ? int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed)
                ? parsed
                : throw new InvalidDataException($"host.json: '{key}' is not an integer: '{value}'.")
            : null;

    private static bool? Bool(IConfiguration section, string key) =>
        section[key] is { } value
            ? bool.TryParse(value, out var parsed)
                ? parsed
                : throw new InvalidDataException($"host.json: '{key}' is not true or false: '{value}'.")
            : null;

    private static TimeSpan? Time(IConfiguration section, string key) =>
        section[key] is { } value ? ParseTime(key, value) : null;

    private static TimeSpan ParseTime(string key, string value) =>
        TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out var parsed)
            ? parsed
            : throw new InvalidDataException($"host.json: '{key}' is not a time span: '{value}'.");

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9]{2,49}$")]
    private static partial Regex HubNameRule();
}
