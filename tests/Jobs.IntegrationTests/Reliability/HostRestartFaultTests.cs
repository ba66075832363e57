using Jobs.Functions.Model;
using Jobs.LocalRunner.Restarts;
using Jobs.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.IntegrationTests.Reliability;

/// <summary>
/// The fault strikes and the host restarts right there (<see cref="FaultInjectionCases"/>), on a runner of its own: each
/// case waits out the 30 s visibility timeout of the aborted step's work item, so these run beside the other fault tests
/// instead of after them.
/// </summary>
[Collection(FaultRestartRunnerCollection.Name)]
public sealed class HostRestartFaultTests(FaultRunnerFixture runner) : FaultInjectionCases(runner)
{
    /// <summary>
    /// The fault strikes and the host restarts right there, before the app sees the fault (as when the same storage
    /// error had hit a queue message's settle, which restarts the host — HostRestartTests): the running step is
    /// aborted, nothing it reports is sent, and its work item comes back after the visibility timeout, so the step runs
    /// again from the start on the fresh worker over whatever the first run had written. The job still ends as its
    /// handler decided, with a true record and list rows.
    /// </summary>
    [Theory]
    [InlineData("step start", FaultTiming.AfterApplied)]
    [InlineData("progress", FaultTiming.BeforeApplied)]
    [InlineData("finish", FaultTiming.AfterApplied)]
    [InlineData("list rows on finish", FaultTiming.BeforeApplied)]
    public async Task HostRestartAtAFault_TheStepRunsAgain_AndTheJobStillCompletes_WithATrueRecordAndListRows(string path, FaultTiming timing)
    {
        var restarter = Runner.Services.GetRequiredService<HostRestarter>();
        var restartsBefore = restarter.Restarts;
        string? id = null;
        Runner.Faults.OnStrike = async _ =>
        {
            Assert.True(restarter.RequestRestart($"restarted by the test at its fault on {path}", null));
            await ListenerParts.WaitUntilAsync(() => restarter.Restarts > restartsBefore, TimeSpan.FromSeconds(30), "the host has restarted");
        };
        Runner.Faults.FailNth(PathOf(path, () => Volatile.Read(ref id)), 1, timing);
        using var client = Runner.Client(Owner);

        var created = await RunnerFixture.CreateJobAsync(client, Demo(delayMs: path == "progress" ? 1200 : 300));
        Volatile.Write(ref id, (string)created["id"]!);

        await AssertEndsTrueAsync(client, id!, JobStatus.Completed, restarted: true);
        Assert.Equal(restartsBefore + 1, restarter.Restarts);
    }
}
