using Jobs.LocalRunner.Configuration;
using Microsoft.Extensions.Configuration;

namespace Jobs.RunnerTests;

/// <summary>
/// host.json's <c>extensions.durableTask.useGracefulShutdown</c> (the Durable extension's DurableTaskOptions, default
/// false: DurableTaskExtension.StopTaskHubWorkerIfIdleAsync stops the task hub worker with isForced: !UseGracefulShutdown)
/// and the runner's own <c>gracefulShutdownTimeout</c>.
/// </summary>
public sealed class DurableShutdownSettingsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("jobs-shutdown-").FullName;

    private string HostJson(string durableTask)
    {
        var path = Path.Combine(_dir, "host.json");
        File.WriteAllText(path, $$"""{ "version": "2.0", "extensions": { "durableTask": {{durableTask}} } }""");
        return path;
    }

    private static IConfiguration Settings(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

    [Fact]
    public void Load_WithoutTheSettings_IsAForcedStop_AsTheExtensionsDefault_WithA30SecondGrace()
    {
        var settings = HostSettings.Load(HostJson("""{ "hubName": "xyz" }"""), Settings());
        Assert.False(settings.UseGracefulShutdown);
        Assert.Equal(TimeSpan.FromSeconds(30), settings.GracefulShutdownTimeout);
    }

    [Fact]
    public void Load_ReadsUseGracefulShutdown_IgnoringTheKeysCase_AndAnAppSettingOverridesIt()
    {
        var path = HostJson("""{ "UseGracefulShutdown": true }""");
        Assert.True(HostSettings.Load(path, Settings()).UseGracefulShutdown);
        Assert.False(HostSettings.Load(path, Settings(("AzureFunctionsJobHost:extensions:durableTask:useGracefulShutdown", "false"))).UseGracefulShutdown);
    }

    [Fact]
    public void Load_ReadsTheGraceFromHostJson_AndAnAppSettingOverridesIt()
    {
        var path = HostJson("""{ "gracefulShutdownTimeout": "00:01:30" }""");
        Assert.Equal(TimeSpan.FromSeconds(90), HostSettings.Load(path, Settings()).GracefulShutdownTimeout);
        Assert.Equal(TimeSpan.FromSeconds(5), HostSettings.Load(path, Settings((HostSettings.GracefulShutdownTimeoutKey, "00:00:05"))).GracefulShutdownTimeout);
    }

    [Fact]
    public void Load_RefusesANegativeGrace() =>
        Assert.Throws<InvalidDataException>(() => HostSettings.Load(HostJson("""{ "gracefulShutdownTimeout": "-00:00:05" }"""), Settings()));

    [Fact]
    public void TheSampleHostJson_StopsGracefully() =>
        Assert.True(HostSettings.Load(Path.Combine(Jobs.Testing.RepoPaths.Root, "host.json"), Settings()).UseGracefulShutdown);

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
