using Jobs.LocalRunner.Durable;
using Microsoft.Extensions.Configuration;

namespace Jobs.RunnerTests;

public sealed class DurableShutdownSettingsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("jobs-shutdown-").FullName;

    private string HostJson(string durableTask)
    {
        var path = Path.Combine(_dir, "host.json");
        File.WriteAllText(path, $$"""{ "version": "2.0", "extensions": { "durableTask": {{durableTask}} } }""");
        return path;
    }

    private static IConfiguration Settings(string? value = null) =>
        new ConfigurationBuilder().AddInMemoryCollection(value is null ? [] : [new(DurableShutdownSettings.OverrideKey, value)]).Build();

    [Fact]
    public void Load_WithoutTheSetting_Is30Seconds()
    {
        Assert.Equal(TimeSpan.FromSeconds(30), DurableShutdownSettings.Load(HostJson("""{ "hubName": "x" }"""), Settings()).GracefulShutdownTimeout);
        Assert.Equal(TimeSpan.FromSeconds(30), DurableShutdownSettings.Load(Path.Combine(_dir, "missing.json"), Settings()).GracefulShutdownTimeout);
    }

    [Fact]
    public void Load_ReadsHostJson_AndAnAppSettingOverridesIt()
    {
        var path = HostJson("""{ "gracefulShutdownTimeout": "00:01:30" }""");
        Assert.Equal(TimeSpan.FromSeconds(90), DurableShutdownSettings.Load(path, Settings()).GracefulShutdownTimeout);
        Assert.Equal(TimeSpan.FromSeconds(5), DurableShutdownSettings.Load(path, Settings("00:00:05")).GracefulShutdownTimeout);
    }

    [Fact]
    public void Load_RefusesANegativeTimeout() =>
        Assert.Throws<InvalidDataException>(() => DurableShutdownSettings.Load(HostJson("""{ "gracefulShutdownTimeout": "-00:00:05" }"""), Settings()));

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
