using Jobs.Functions.Concurrency;
using Jobs.Functions.Hosting;
using Jobs.Functions.Storage;
using Jobs.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.IntegrationTests.Concurrency;

/// <summary>
/// A type's pause flag as two instances on one storage account see it (Azurite, two service providers, one table):
/// the first step of a job of a type without limits reads the flag at most once per <see cref="JobSlots.PauseFlagLifetime"/>
/// per instance — so a five-step job's requests stay at 14 — and a pause reaches the other instance within that time,
/// the instance that paused at once. Elapsed time moves only when the test says so.
/// </summary>
public sealed class PauseFlagTests
{
    private const string Type = "demo.steps";

    [Fact]
    public async Task APause_ReachesTheOtherInstance_WithinTheFlagsLifetime_AndTheInstanceThatPaused_AtOnce()
    {
        var prefix = "pf" + Guid.NewGuid().ToString("N")[..10];
        var clockA = new ManualClock();
        await using var a = Services(prefix, clockA);
        await using var b = Services(prefix, new ManualClock());
        await ActivatorUtilities.CreateInstance<StorageInitializer>(a).StartingAsync(default);
        var slotsA = a.GetRequiredService<JobSlots>();
        var slotsB = b.GetRequiredService<JobSlots>();
        var requestsA = a.GetRequiredService<StorageRequestCounter>();

        Assert.False(await slotsA.IsPausedAsync(Type, default));
        var afterFirstRead = requestsA.Snapshot().Values.Sum();
        Assert.False(await slotsA.IsPausedAsync(Type, default)); // within the lifetime: no request
        Assert.Equal(afterFirstRead, requestsA.Snapshot().Values.Sum());

        await slotsB.SetPausedAsync(Type, paused: true, default);
        Assert.True(await slotsB.IsPausedAsync(Type, default)); // the instance that paused knows at once

        clockA.Advance(JobSlots.PauseFlagLifetime - TimeSpan.FromMilliseconds(1));
        Assert.False(await slotsA.IsPausedAsync(Type, default)); // still trusting its last read
        clockA.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(await slotsA.IsPausedAsync(Type, default)); // read again: paused

        await slotsB.SetPausedAsync(Type, paused: false, default);
        clockA.Advance(JobSlots.PauseFlagLifetime);
        Assert.False(await slotsA.IsPausedAsync(Type, default));
    }

    private static ServiceProvider Services(string prefix, TimeProvider time) =>
        new ServiceCollection()
            .AddLogging()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["AzureWebJobsStorage"] = TestStorage.ConnectionString,
                ["Jobs:Storage:TablePrefix"] = prefix,
                ["Jobs:Storage:ArtifactContainer"] = "exp-" + prefix,
            }).Build())
            .AddJobs()
            .AddSingleton(time)
            .BuildServiceProvider();

    /// <summary>The system clock for dates; elapsed time moves only when told.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private long _timestamp;

        public override long GetTimestamp() => Volatile.Read(ref _timestamp);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _timestamp, (long)(by.TotalSeconds * TimestampFrequency));
    }
}
