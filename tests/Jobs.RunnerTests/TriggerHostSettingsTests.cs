using Jobs.LocalRunner.Configuration;

namespace Jobs.RunnerTests;

/// <summary>The host.json settings the queue and timer triggers read, with the host's defaults and limits.</summary>
public sealed class TriggerHostSettingsTests
{
    private static HostSettings Load(string json)
    {
        var path = Path.GetTempFileName();
        File.WriteAllText(path, json);
        try
        {
            return HostSettings.Load(path, new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Defaults_AreTheExtensionsOwn()
    {
        var host = Load("""{"version":"2.0"}""");
        Assert.Null(host.QueueNewBatchThreshold);
        Assert.Equal(TimeSpan.FromMinutes(10), host.QueueMessageLease);
        Assert.Equal(TimeSpan.FromSeconds(60), host.ListenerLockPeriod);
        Assert.Equal(TimeSpan.FromMinutes(1), host.ListenerLockRecoveryPollingInterval);
    }

    [Fact]
    public void NewBatchThreshold_AndSingletonSettings_AreRead()
    {
        var host = Load("""
            {"version":"2.0","extensions":{"queues":{"newBatchThreshold":3}},
             "singleton":{"listenerLockPeriod":"00:00:20","listenerLockRecoveryPollingInterval":"00:00:30"}}
            """);
        Assert.Equal(3, host.QueueNewBatchThreshold);
        Assert.Equal(TimeSpan.FromSeconds(20), host.ListenerLockPeriod);
        Assert.Equal(TimeSpan.FromSeconds(30), host.ListenerLockRecoveryPollingInterval);
    }

    [Theory]
    [InlineData("""{"extensions":{"queues":{"newBatchThreshold":-1}}}""")]
    [InlineData("""{"singleton":{"listenerLockPeriod":"00:00:10"}}""")]
    [InlineData("""{"singleton":{"listenerLockPeriod":"00:02:00"}}""")]
    public void OutOfRangeValues_AreRefused_AsTheHostRefusesThem(string json) =>
        Assert.Throws<InvalidDataException>(() => Load(json));
}
