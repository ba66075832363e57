using Jobs.LocalRunner.Durable;
using Jobs.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.RunnerTests;

/// <summary>
/// host.json's <c>extendedSessionsEnabled</c> reaches the engine as the extension passes it on
/// (Azure/azure-functions-durable-extension, AzureStorageDurabilityProviderFactory: ExtendedSessionsEnabled and
/// ExtendedSessionIdleTimeout on AzureStorageOrchestrationServiceSettings; for .NET isolated since worker extension
/// 1.8.0): an orchestration stays loaded between its episodes instead of being read back from the History table for
/// each one, and a job still runs to the end its handler decides.
/// </summary>
public sealed class ExtendedSessionsTests
{
    private const string Setting = "AzureFunctionsJobHost:extensions:durableTask:extendedSessionsEnabled";

    [Fact]
    public async Task WithExtendedSessions_AFiveStepJob_IsReadBackFromTheTaskHubFarLessOften_AndStillCompletes()
    {
        var withoutSessions = await TableReadsForAFiveStepJobAsync(extendedSessions: false);
        var withSessions = await TableReadsForAFiveStepJobAsync(extendedSessions: true);
        // Without sessions every episode (the start, each of the six activities' results) reloads the history: 7 reads
        // and the create's look-up of the instance. With them the instance is loaded once and kept between episodes.
        Assert.True(withoutSessions >= 7, $"without extended sessions: {withoutSessions} table reads");
        Assert.True(withSessions * 2 <= withoutSessions, $"with extended sessions: {withSessions} table reads, without: {withoutSessions}");
    }

    private static async Task<long> TableReadsForAFiveStepJobAsync(bool extendedSessions)
    {
        var runner = new CustomRunner((Setting, extendedSessions ? "true" : "false"));
        await runner.InitializeAsync();
        try
        {
            using var owner = runner.Client("sessions-owner");
            // One job first, so the partition leases are held and the engine is warm.
            await RunnerFixture.WaitForEndAsync(owner, (string)(await RunnerFixture.CreateJobAsync(owner, new { type = "demo.steps", input = new { steps = 1 } }))["id"]!);
            var requests = runner.Services.GetRequiredService<DurableRequestCounter>().Counter;
            var before = requests.Snapshot().GetValueOrDefault("table.GET");
            var created = await RunnerFixture.CreateJobAsync(owner, new { type = "demo.steps", input = new { steps = 5 } });
            var ended = await RunnerFixture.WaitForEndAsync(owner, (string)created["id"]!);
            Assert.Equal("completed", (string?)ended["status"]);
            Assert.Equal(100, (int?)ended["progress"]);
            return requests.Snapshot().GetValueOrDefault("table.GET") - before;
        }
        finally
        {
            await runner.DisposeAsync();
        }
    }
}
