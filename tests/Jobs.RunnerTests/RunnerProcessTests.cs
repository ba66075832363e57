using System.Net;
using System.Net.Sockets;
using Jobs.Testing;

namespace Jobs.RunnerTests;

/// <summary>
/// The child-process runner the runner tests start (<see cref="RunnerProcess"/>): its port is picked free, but another
/// process may bind it in the seconds before the runner's Kestrel does — a run of the suite once failed so, as a runner
/// that "did not start serving" for 90 s after it had exited at once.
/// </summary>
public sealed class RunnerProcessTests
{
    [Fact]
    public async Task ARunnerWhosePortIsTakenBeforeItBinds_StartsOnAnotherPort_AndItsClientFollowsIt()
    {
        using var runner = new RunnerProcess(_ => { });
        var picked = runner.Port;
        using var squatter = new TcpListener(IPAddress.Loopback, picked);
        squatter.Start();

        await runner.StartAsync();

        Assert.NotEqual(picked, runner.Port);
        Assert.Contains("address already in use", runner.Output, StringComparison.OrdinalIgnoreCase);
        using var types = await runner.Client.GetAsync("/api/job-types"); // the client still names the first port
        Assert.Equal(HttpStatusCode.OK, types.StatusCode);
        Assert.Equal(picked, runner.Client.BaseAddress!.Port);
    }
}
