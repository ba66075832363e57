using System.Text.Json.Nodes;
using Jobs.Functions.Handlers;
using Jobs.Functions.Model;
using Jobs.Testing;

namespace Jobs.IntegrationTests.Reliability;

/// <summary>
/// A running step's log lines are written batched (at most every 250 ms) or handed to the next activity; these tests
/// check what a reader of the logs sees: lines while the step still runs, each line once, in order, through faults.
/// </summary>
[Collection(FaultRunnerCollection.Name)]
public sealed class StepLogTests(FaultRunnerFixture runner) : IDisposable
{
    private readonly string _owner = "chat-" + Guid.NewGuid().ToString("N")[..10];

    public void Dispose() => runner.Faults.Clear();

    [Fact]
    public async Task ALine_IsReadableWhileItsStepStillRuns()
    {
        using var client = runner.Client(_owner);
        // The step holds at a gate until the test has read its line (a fixed hold could end first on a loaded machine).
        using var gate = StepGates.Close();
        var id = (string)(await RunnerFixture.CreateJobAsync(client, new { type = ChattyHandler.TypeName, input = new { lines = 1, gate = gate.Name } }))["id"]!;
        await RunnerFixture.PollStatusAsync(client, id, s => (string?)s["status"] == "running");

        var lines = await WaitForLinesAsync(client, id, 1);
        // Seen while the step still holds (the line is not waiting for the step's end).
        Assert.Equal("running", (string?)JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{id}/status"))!["status"]);
        Assert.Equal("line 1 of 1", lines.Single(l => l.StartsWith("line ", StringComparison.Ordinal)));
        gate.Open();
        await RunnerFixture.WaitForEndAsync(client, id);
    }

    [Theory]
    [InlineData(FaultTiming.BeforeApplied)]
    [InlineData(FaultTiming.AfterApplied)]
    public async Task BatchedWritesThatFail_AreTriedAgain_AndEveryLineShowsOnce_InOrder(FaultTiming timing)
    {
        // The first two writes carrying the step's lines fail; they are kept and written by a later write.
        var injectedBefore = runner.Faults.Injected;
        runner.Faults.FailNth(r => r.IsBatch && r.BodyHas(_owner) is false && r.BodyHas("line 1 of 3"), 1, timing, times: 2);
        using var client = runner.Client(_owner);
        // The step holds at a gate until both faults have struck its batched writes and its lines are seen, however long
        // a loaded machine takes (with a fixed hold, 2 s, the step could end first, and its lines go with its end instead).
        using var gate = StepGates.Close();
        var id = (string)(await RunnerFixture.CreateJobAsync(client, new { type = ChattyHandler.TypeName, input = new { lines = 3, gate = gate.Name } }))["id"]!;

        await Conditions.WaitUntilAsync(() => Task.FromResult(runner.Faults.Injected == injectedBefore + 2), "both batched writes of the lines failed while the step ran");
        var seen = await WaitForLinesAsync(client, id, 3);
        Assert.Equal("running", (string?)JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{id}/status"))!["status"]);
        gate.Open();
        var end = await RunnerFixture.WaitForEndAsync(client, id);
        Assert.Equal("completed", (string?)end["status"]);
        var lines = await LinesAsync(client, id);
        Assert.Equal(["line 1 of 3", "line 2 of 3", "line 3 of 3"], lines.Where(l => l.StartsWith("line ", StringComparison.Ordinal)));
        Assert.Equal(seen.Where(l => l.StartsWith("line ", StringComparison.Ordinal)), lines.Where(l => l.StartsWith("line ", StringComparison.Ordinal)));
        Assert.Equal(injectedBefore + 2, runner.Faults.Injected);
    }

    [Fact]
    public async Task AStepThatLogsMoreThanABatchHolds_KeepsEveryLine_InOrder()
    {
        using var client = runner.Client(_owner);
        var id = (string)(await RunnerFixture.CreateJobAsync(client, new { type = ChattyHandler.TypeName, input = new { lines = 260, holdMs = 0 } }))["id"]!;
        var end = await RunnerFixture.WaitForEndAsync(client, id);
        Assert.Equal("completed", (string?)end["status"]);
        var lines = (await LinesAsync(client, id)).Where(l => l.StartsWith("line ", StringComparison.Ordinal)).ToList();
        Assert.Equal(Enumerable.Range(1, 260).Select(n => $"line {n} of 260"), lines);
    }

    private static async Task<List<string>> LinesAsync(HttpClient client, string id) =>
        [.. JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{id}/logs?limit=1000"))!["lines"]!.AsArray().Select(l => (string)l!["message"]!)];

    private static async Task<List<string>> WaitForLinesAsync(HttpClient client, string id, int count)
    {
        List<string> lines = [];
        await Conditions.WaitUntilAsync(async () =>
        {
            lines = await LinesAsync(client, id);
            return lines.Count(l => l.StartsWith("line ", StringComparison.Ordinal)) >= count;
        }, $"{count} lines never showed up");
        return lines;
    }
}

/// <summary>Input of <see cref="ChattyHandler"/>.</summary>
public sealed record ChattyInput
{
    public int Lines { get; init; } = 1;
    public int HoldMs { get; init; }

    /// <summary>A <see cref="StepGates"/> gate the step waits at after its lines, before its hold.</summary>
    public string? Gate { get; init; }
}

/// <summary><c>test.chatty</c>: one step that logs <c>lines</c> lines at once, waits at its <c>gate</c> if it names one, then holds for <c>holdMs</c>.</summary>
public sealed class ChattyHandler : JobHandler<ChattyInput>
{
    public const string TypeName = "test.chatty";

    public override string Type => TypeName;

    protected override IReadOnlyList<JobStep<ChattyInput>> Steps(ChattyInput input) =>
    [
        new("talk", async (i, step) =>
        {
            for (var n = 1; n <= i.Lines; n++)
            {
                await step.LogAsync($"line {n} of {i.Lines}");
            }
            if (i.Gate is { } gate)
            {
                await StepGates.WaitAsync(gate, step.CancellationToken);
            }
            await Task.Delay(i.HoldMs, step.CancellationToken);
            return null;
        }),
    ];
}
