using DurableTask.AzureStorage;
using DurableTask.Core.Exceptions;
using Grpc.Core;
using Jobs.LocalRunner.Configuration;
using Jobs.LocalRunner.Durable;
using Jobs.Testing;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Converters;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace Jobs.RunnerTests;

/// <summary>
/// The Durable engine settings the extension applies, read from Microsoft.Azure.WebJobs.Extensions.DurableTask 3.18.0
/// (Azure/azure-functions-durable-extension): AzureStorageOptions.ControlQueueBufferThreshold (256, passed on by
/// AzureStorageDurabilityProviderFactory; DurableTask.AzureStorage's own default is 64);
/// DurableTaskOptions.OverridableExistingInstanceStates (default NonRunningStates) turned into dedupe statuses by
/// OverridableStatesExtensions.ToDedupeStatuses (AnyState: none) for LocalGrpcListener.StartInstance;
/// DurableTaskOptions.ThrowStatusExceptionsOnRaiseEvent (unset: the provider's CheckStatusBeforeRaiseEvent, true for
/// Azure Storage) read by TaskHubGrpcServer.RaiseEvent and DurableClient; DurableTaskOptions.DefaultVersion, which the
/// runner does not implement and so refuses at start-up rather than ignore.
/// </summary>
public sealed class DurableEngineSettingsTests : IDisposable
{
    private readonly string _path = Path.GetTempFileName();

    public void Dispose() => File.Delete(_path);

    private HostSettings Load(string durableTask)
    {
        File.WriteAllText(_path, """{"version":"2.0","extensions":{"durableTask":""" + durableTask + "}}");
        return HostSettings.Load(_path, new ConfigurationBuilder().Build());
    }

    private static AzureStorageOrchestrationServiceSettings BackendSettings(HostSettings host) =>
        DurableEngine.ServiceSettings(new EngineSettings(host.HubName, null!, host, "worker", ""),
            new StorageAccountClientProvider("UseDevelopmentStorage=true"), NullLoggerFactory.Instance);

    [Fact]
    public void TheControlQueueBufferThreshold_Is256_AsTheExtensionSetsIt_AndHostJsonCanChangeIt()
    {
        Assert.Equal(256, BackendSettings(Load("{}")).ControlQueueBufferThreshold);
        Assert.Equal(100, BackendSettings(Load("""{"storageProvider":{"controlQueueBufferThreshold":100}}""")).ControlQueueBufferThreshold);
    }

    [Fact]
    public void InstanceAndRaiseEventSettings_AreRead_WithTheExtensionsDefaults()
    {
        var defaults = Load("{}");
        Assert.Equal(OverridableStates.NonRunningStates, defaults.OverridableExistingInstanceStates);
        Assert.True(defaults.ThrowStatusExceptionsOnRaiseEvent);
        var set = Load("""{"overridableExistingInstanceStates":"anyState","throwStatusExceptionsOnRaiseEvent":false}""");
        Assert.Equal(OverridableStates.AnyState, set.OverridableExistingInstanceStates);
        Assert.False(set.ThrowStatusExceptionsOnRaiseEvent);
    }

    [Theory]
    [InlineData("""{"defaultVersion":"1.0"}""", "extensions.durableTask.defaultVersion")]
    [InlineData("""{"overridableExistingInstanceStates":"Running"}""", "extensions.durableTask.overridableExistingInstanceStates")]
    [InlineData("""{"throwStatusExceptionsOnRaiseEvent":"sometimes"}""", "'throwStatusExceptionsOnRaiseEvent'")]
    public void ASettingTheRunnerCannotHonour_StopsTheStart_NamingIt(string durableTask, string named)
    {
        var refused = Assert.ThrowsAny<Exception>(() => Load(durableTask));
        Assert.Contains(named, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnyState_ReplacesALiveInstance_NonRunningStates_RefusesIt()
    {
        var service = await FreshHubAsync();
        try
        {
            var anyState = Client(service, OverridableStates.AnyState, throwOnRaise: true);
            var nonRunning = Client(service, OverridableStates.NonRunningStates, throwOnRaise: true);
            var id = Guid.NewGuid().ToString("N");
            var start = new StartOrchestrationOptions(id);
            // No worker runs on this hub: the instance stays Pending, one of the live statuses.
            await anyState.ScheduleNewOrchestrationInstanceAsync("Probe", "first", start);
            await anyState.ScheduleNewOrchestrationInstanceAsync("Probe", "second", start);
            var current = await anyState.GetInstanceAsync(id, getInputsAndOutputs: true);
            Assert.Equal("\"second\"", current!.SerializedInput);
            await Assert.ThrowsAsync<OrchestrationAlreadyExistsException>(() => nonRunning.ScheduleNewOrchestrationInstanceAsync("Probe", "third", start));
        }
        finally
        {
            await service.DeleteAsync();
        }
    }

    [Fact]
    public async Task RaisingToAnUnknownInstance_IsRefusedByDefault_AndSentUncheckedWhenThrowStatusExceptionsIsOff()
    {
        var service = await FreshHubAsync();
        try
        {
            var id = Guid.NewGuid().ToString("N");
            var checking = Client(service, OverridableStates.NonRunningStates, throwOnRaise: true);
            var sendsUnchecked = Client(service, OverridableStates.NonRunningStates, throwOnRaise: false);
            var refused = await Assert.ThrowsAsync<RpcException>(() => checking.RaiseEventAsync(id, "poke"));
            Assert.Equal(StatusCode.NotFound, refused.StatusCode);
            await sendsUnchecked.RaiseEventAsync(id, "poke");
        }
        finally
        {
            await service.DeleteAsync();
        }
    }

    private static async Task<AzureStorageOrchestrationService> FreshHubAsync()
    {
        var service = new AzureStorageOrchestrationService(new AzureStorageOrchestrationServiceSettings
        {
            TaskHubName = "settings" + Guid.NewGuid().ToString("N")[..12],
            StorageAccountClientProvider = new StorageAccountClientProvider(TestStorage.ConnectionString),
            ThrowExceptionOnInvalidDedupeStatus = true,
        });
        await service.CreateIfNotExistsAsync();
        return service;
    }

    private static AzureStorageDurableTaskClient Client(AzureStorageOrchestrationService service, OverridableStates overridable, bool throwOnRaise) =>
        new(service, JsonDataConverter.Default, "code=x", overridable, throwOnRaise);
}
