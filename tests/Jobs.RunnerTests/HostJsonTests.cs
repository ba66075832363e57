using Jobs.Functions.Storage;
using Jobs.LocalRunner.Configuration;
using Microsoft.Extensions.Configuration;

namespace Jobs.RunnerTests;

/// <summary>
/// host.json as the Functions host reads it: flattened into case-insensitive configuration keys under
/// AzureFunctionsJobHost (Azure/azure-functions-host, src/WebJobs.Script/Config/HostJsonFileConfigurationSource.cs),
/// overridable by app settings named AzureFunctionsJobHost__… (learn.microsoft.com, functions-host-json.md, "Override
/// host.json values"), and refused at start-up where the Durable extension refuses it
/// (Azure/azure-functions-durable-extension v3.x, src/WebJobs.Extensions.DurableTask/Options/AzureStorageOptions.cs
/// Validate and ValidateHubName, DurableTaskOptions.cs Validate and ResolveAppSettingOptions).
/// </summary>
public sealed class HostJsonTests : IDisposable
{
    private readonly string _path = Path.GetTempFileName();

    public void Dispose() => File.Delete(_path);

    private HostSettings Load(string json, params (string Key, string Value)[] appSettings)
    {
        File.WriteAllText(_path, json);
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(appSettings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build();
        return HostSettings.Load(_path, configuration);
    }

    private static string Durable(string durableTask) => """{"version":"2.0","extensions":{"durableTask":""" + durableTask + "}}";

    [Fact]
    public void Keys_AreCaseInsensitive()
    {
        var host = Load("""
            {
              // comments and trailing commas are accepted, as by the host's parser
              "Version": "2.0",
              "FunctionTimeout": "00:10:00",
              "watchDirectories": [ "Shared", null ],
              "Extensions": { "HTTP": { "RoutePrefix": "v1" },
                              "DurableTASK": { "HubName": "CasedHub", "StorageProvider": { "PartitionCount": 2 } },
                              "QUEUES": { "MaxDequeueCount": 3, "MessageEncoding": "None" } },
            }
            """);
        Assert.Equal("v1", host.RoutePrefix);
        Assert.Equal(TimeSpan.FromMinutes(10), host.FunctionTimeout);
        Assert.Equal("CasedHub", host.HubName);
        Assert.Equal(2, host.PartitionCount);
        Assert.Equal(3, host.QueueMaxDequeueCount);
        Assert.False(host.QueueMessagesBase64);
    }

    [Fact]
    public void APercentHubName_IsTheAppSettingItNames()
    {
        Assert.Equal("FromSetting", Load(Durable("""{"hubName":"%MyHub%"}"""), ("MyHub", "FromSetting")).HubName);
        // Not a whole %name%: kept as written, which the hub name rule then refuses.
        var partial = Assert.Throws<ArgumentException>(() => Load(Durable("""{"hubName":"Hub%MyHub%"}"""), ("MyHub", "FromSetting")));
        Assert.Contains("'Hub%MyHub%'", partial.Message, StringComparison.Ordinal);
        // A setting that does not exist leaves %name%, refused the same way.
        Assert.Throws<ArgumentException>(() => Load(Durable("""{"hubName":"%Missing%"}""")));
    }

    [Fact]
    public void AzureFunctionsJobHostSettings_OverrideHostJson()
    {
        var host = Load(Durable("""{"hubName":"FileHub","storageProvider":{"partitionCount":4}}"""),
            ("AzureFunctionsJobHost:extensions:durableTask:hubName", "SettingHub"),
            ("azurefunctionsjobhost:EXTENSIONS:durabletask:storageprovider:partitionCount", "8"),
            ("AzureFunctionsJobHost:functionTimeout", "00:00:05"),
            ("AzureFunctionsJobHost:extensions:durableTask:hubName2", "ignored"));
        Assert.Equal("SettingHub", host.HubName);
        Assert.Equal(8, host.PartitionCount);
        Assert.Equal(TimeSpan.FromSeconds(5), host.FunctionTimeout);
    }

    [Fact]
    public void AnOverride_CanBeAPercentSetting_Too()
    {
        var host = Load(Durable("""{"hubName":"FileHub"}"""),
            ("AzureFunctionsJobHost:extensions:durableTask:hubName", "%HubSetting%"), ("HubSetting", "ResolvedHub"));
        Assert.Equal("ResolvedHub", host.HubName);
    }

    [Theory]
    [InlineData("""{"storageProvider":{"partitionCount":0}}""", "PartitionCount must be an integer value between 1 and 16.")]
    [InlineData("""{"storageProvider":{"partitionCount":17}}""", "PartitionCount must be an integer value between 1 and 16.")]
    [InlineData("""{"storageProvider":{"controlQueueVisibilityTimeout":"00:00:30"}}""", "ControlQueueVisibilityTimeout must be between 1 and 60 minutes.")]
    [InlineData("""{"storageProvider":{"controlQueueVisibilityTimeout":"01:00:01"}}""", "ControlQueueVisibilityTimeout must be between 1 and 60 minutes.")]
    [InlineData("""{"storageProvider":{"maxQueuePollingInterval":"00:00:00"}}""", "MaxQueuePollingInterval must be non-negative.")]
    [InlineData("""{"maxConcurrentActivityFunctions":0}""", "MaxConcurrentActivityFunctions must be a positive integer value.")]
    [InlineData("""{"maxConcurrentOrchestratorFunctions":-1}""", "MaxConcurrentOrchestratorFunctions must be a positive integer value.")]
    public void ValuesTheExtensionRefuses_StopTheStart(string durableTask, string message)
    {
        var error = Assert.Throws<InvalidOperationException>(() => Load(Durable(durableTask)));
        Assert.Equal(message, error.Message);
    }

    [Theory]
    [InlineData("ab")]
    [InlineData("1hub")]
    [InlineData("my-hub")]
    [InlineData("hub_name")]
    [InlineData("h23456789012345678901234567890123456789012345678901")]
    public void HubNamesTheExtensionRefuses_StopTheStart(string hubName)
    {
        var error = Assert.Throws<ArgumentException>(() => Load(Durable("""{"hubName":"X"}""".Replace("X", hubName, StringComparison.Ordinal))));
        Assert.Equal($"Task hub name '{hubName}' should contain only alphanumeric characters, start with a letter, and have length between 3 and 45.", error.Message);
    }

    [Fact]
    public void LimitsAtTheEdges_AreAccepted_AndTheWorkItemVisibilityHasNone()
    {
        var host = Load(Durable("""
            {"hubName":"Abc",
             "storageProvider":{"partitionCount":16,"controlQueueVisibilityTimeout":"01:00:00","workItemQueueVisibilityTimeout":"00:00:30"}}
            """));
        Assert.Equal("Abc", host.HubName);
        Assert.Equal(16, host.PartitionCount);
        Assert.Equal(TimeSpan.FromHours(1), host.DurableControlQueueVisibilityTimeout);
        // AzureStorageOptions.Validate has no rule for the work-item queue: the host accepts 30 s.
        Assert.Equal(TimeSpan.FromSeconds(30), host.DurableWorkItemVisibilityTimeout);
        Assert.Equal(50, Load(Durable("""{"hubName":"h2345678901234567890123456789012345678901234567890"}""")).HubName.Length);
    }

    [Fact]
    public void TestOverrides_ReplaceTheVisibilityTimeouts_AfterValidation()
    {
        var host = Load(Durable("{}"),
            ("Jobs:Runner:TestOverrides:WorkItemVisibilityTimeout", "00:00:20"),
            ("Jobs:Runner:TestOverrides:ControlQueueVisibilityTimeout", "00:00:15"));
        Assert.Equal(TimeSpan.FromSeconds(20), host.DurableWorkItemVisibilityTimeout);
        Assert.Equal(TimeSpan.FromSeconds(15), host.DurableControlQueueVisibilityTimeout);
        Assert.Equal(2, host.TestOverridesApplied.Count);
        Assert.Empty(Load(Durable("{}")).TestOverridesApplied);
    }

    /// <summary>
    /// Azure/azure-functions-host, src/WebJobs.Script/Config/ScriptJobHostOptionsSetup.cs: outside Consumption (and so
    /// under Core Tools) the default is 30 minutes, "-1" is unlimited, and anything under one second is refused.
    /// </summary>
    [Fact]
    public void FunctionTimeout_DefaultsTo30Minutes_MinusOneIsUnlimited_UnderASecondIsRefused()
    {
        Assert.Equal(TimeSpan.FromMinutes(30), Load("""{"version":"2.0"}""").FunctionTimeout);
        Assert.Null(Load("""{"version":"2.0","functionTimeout":"-1"}""").FunctionTimeout);
        Assert.Equal(TimeSpan.FromDays(2), Load("""{"version":"2.0","functionTimeout":"2.00:00:00"}""").FunctionTimeout);
        Assert.Equal(TimeSpan.FromSeconds(1), Load("""{"version":"2.0","functionTimeout":"00:00:01"}""").FunctionTimeout);
        Assert.Throws<ArgumentException>(() => Load("""{"version":"2.0","functionTimeout":"00:00:00.500"}"""));
        Assert.Throws<ArgumentException>(() => Load("""{"version":"2.0","functionTimeout":"-00:05:00"}"""));
        Assert.Throws<InvalidDataException>(() => Load("""{"version":"2.0","functionTimeout":"soon"}"""));
    }

    [Theory]
    [InlineData("""{}""")]
    [InlineData("""{"version":"3.0"}""")]
    public void AHostJsonWithoutVersion2_IsRefused(string json) =>
        Assert.Throws<InvalidDataException>(() => Load(json));

    [Fact]
    public void ExtendedSessions_AreOffByDefault_AndTheIdleTimeoutIsClampedAtZero_AsByTheExtension()
    {
        var defaults = Load(Durable("{}"));
        Assert.False(defaults.ExtendedSessionsEnabled);
        Assert.Equal(TimeSpan.FromSeconds(30), defaults.ExtendedSessionIdleTimeout);
        var on = Load(Durable("""{"extendedSessionsEnabled":true,"extendedSessionIdleTimeoutInSeconds":5}"""));
        Assert.True(on.ExtendedSessionsEnabled);
        Assert.Equal(TimeSpan.FromSeconds(5), on.ExtendedSessionIdleTimeout);
        // Azure/azure-functions-durable-extension, AzureStorageDurabilityProviderFactory:
        // ExtendedSessionIdleTimeout = TimeSpan.FromSeconds(Math.Max(options.ExtendedSessionIdleTimeoutInSeconds, 0)).
        Assert.Equal(TimeSpan.Zero, Load(Durable("""{"extendedSessionIdleTimeoutInSeconds":-5}""")).ExtendedSessionIdleTimeout);
        var error = Assert.Throws<InvalidDataException>(() => Load(Durable("""{"extendedSessionsEnabled":"yes"}""")));
        Assert.Contains("extendedSessionsEnabled", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OtherDurabilityProviders_AreRefused_AndBadNumbersNamed()
    {
        Assert.Throws<NotSupportedException>(() => Load(Durable("""{"storageProvider":{"type":"mssql"}}""")));
        Assert.Equal(4, Load(Durable("""{"storageProvider":{"type":"azureStorage"}}""")).PartitionCount);
        var error = Assert.Throws<InvalidDataException>(() => Load(Durable("""{"storageProvider":{"partitionCount":"four"}}""")));
        Assert.Contains("partitionCount", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheConnectionName_DefaultsToStorage_AndReadsBothSpellings()
    {
        Assert.Equal("Storage", Load(Durable("{}")).StorageConnectionName);
        Assert.Equal("HubStorage", Load(Durable("""{"storageProvider":{"connectionName":"HubStorage"}}""")).StorageConnectionName);
        Assert.Equal("OldName", Load(Durable("""{"storageProvider":{"connectionStringName":"OldName"}}""")).StorageConnectionName);
    }

    /// <summary>
    /// As WebJobs resolves a connection name (the Durable extension's WebJobsConnectionInfoProvider): AzureWebJobs{name}
    /// (connection string first, then setting), then {name} likewise.
    /// </summary>
    [Fact]
    public void ConnectionNames_ResolveLikeWebJobs()
    {
        static StorageConnection Connection(string name, params (string Key, string Value)[] settings) => StorageConnections.Resolve(
            new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build(), name);
        static string? Resolve(string name, params (string Key, string Value)[] settings) => Connection(name, settings).ConnectionString;

        Assert.Equal("a", Resolve("Storage", ("AzureWebJobsStorage", "a"), ("Storage", "b")));
        Assert.Equal("c", Resolve("Storage", ("ConnectionStrings:AzureWebJobsStorage", "c"), ("AzureWebJobsStorage", "a")));
        Assert.Equal("b", Resolve("Hub", ("Hub", "b")));
        Assert.Equal("d", Resolve("Hub", ("ConnectionStrings:Hub", "d"), ("Hub", "b")));
        var missing = Assert.Throws<InvalidOperationException>(() => Resolve("Hub"));
        Assert.Equal("Unable to resolve the Azure Storage connection named 'Hub'.", missing.Message);
        // Identity-based (Hub__accountName): the account's endpoints, found under the same names.
        var identity = Connection("Hub", ("AzureWebJobsHub:accountName", "acct"), ("Hub", "b"));
        Assert.True(identity.IsIdentityBased);
        Assert.Equal(new Uri("https://acct.table.core.windows.net"), identity.TableServiceUri);
    }
}
