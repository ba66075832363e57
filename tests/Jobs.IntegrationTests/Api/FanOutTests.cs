using Jobs.Client;
using Jobs.Testing;

namespace Jobs.IntegrationTests.Api;

/// <summary>
/// Parallel steps (<c>demo.fanout</c>) on the real durable engine, driven through Jobs.Client
/// as an application would (these tests are about behaviour, not the wire: that has its own tests).
/// </summary>
[Collection(RunnerCollection.Name)]
public sealed class FanOutTests(RunnerFixture runner)
{
    private readonly JobsClient _user = new(runner.Client("fan-" + Guid.NewGuid().ToString("N")[..8]));

    private async Task<List<string>> LogMessagesAsync(string id) =>
        [.. (await _user.GetLogsAsync(id, limit: 1000)).Lines.Select(l => l.Message)];

    [Fact]
    public async Task Items_RunInParallel_UpToTheLimit_WithAggregatedProgress_AndResultsInItemOrder()
    {
        string[] items = ["a", "b", "c", "d", "e", "f"];
        var job = await _user.CreateAsync(new CreateJobRequest { Type = "demo.fanout", Input = new { items, parallelism = 3, delayMs = 900 } });
        var messages = new List<string>();
        JobStatus status;
        do
        {
            status = await _user.GetStatusAsync(job.Id);
            messages.Add(status.Message ?? "");
            await Task.Delay(50);
        }
        while (!status.Status.IsTerminal());
        Assert.Equal(JobState.Completed, status.Status);
        // Progress counted items while the step ran.
        Assert.Contains(messages, m => m.StartsWith("Running process: ", StringComparison.Ordinal) && m.EndsWith(" of 6 items done", StringComparison.Ordinal)
            && !m.Contains(": 0 of", StringComparison.Ordinal) && !m.Contains(": 6 of", StringComparison.Ordinal));

        var results = (await _user.GetResultAsync(job.Id)).Result!.Value.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(items, results.Select(r => r.GetProperty("item").GetString()));
        Assert.Equal(Enumerable.Range(0, 6), results.Select(r => r.GetProperty("index").GetInt32()));
        // The items overlapped in time — more than one at once, never more than the limit.
        var spans = results.Select(r => (Start: r.GetProperty("startedAt").GetDateTimeOffset(), End: r.GetProperty("endedAt").GetDateTimeOffset())).ToList();
        var most = spans.Max(s => spans.Count(o => o.Start <= s.Start && s.Start < o.End));
        Assert.InRange(most, 2, 3);

        Assert.Contains("[item 2 of 6] processed 'b'", await LogMessagesAsync(job.Id));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AFailingItem_FailsTheJobNamingIt_AtOnceOrAfterTheOthers(bool finishOthers)
    {
        var created = await _user.CreateAsync(new CreateJobRequest
        {
            Type = "demo.fanout", Input = new { items = new[] { "a", "b", "c", "d" }, parallelism = 1, delayMs = 100, failItem = 2, finishOthers },
        });
        var end = await _user.WaitForCompletionAsync(created.Id);
        Assert.Equal(JobState.Failed, end.Status);
        var job = await _user.GetAsync(created.Id);
        Assert.StartsWith("Item 2 of 4: Item 2 ('b') failed", job.Error!.Message, StringComparison.Ordinal);
        Assert.Equal("process", job.Error.Step);
        var lines = await LogMessagesAsync(created.Id);
        // Tried twice (the step's retry policy), then the job failed; with finishOthers the rest still ran.
        Assert.Equal(2, lines.Count(l => l.StartsWith("[item 2 of 4] failed", StringComparison.Ordinal)));
        Assert.Equal(finishOthers ? 3 : 1, lines.Count(l => l.Contains("] processed '", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task CancellingTheJob_StopsNewItems_AndEndsItCancelled()
    {
        var items = Enumerable.Range(1, 10).Select(n => $"i{n}").ToArray();
        var job = await _user.CreateAsync(new CreateJobRequest { Type = "demo.fanout", Input = new { items, parallelism = 2, delayMs = 1200 } });
        // Watch until some items are done, then cancel.
        await foreach (var e in _user.WatchAsync(job.Id))
        {
            if (e.Status?.Message is { } message && message.Contains(" of 10 items done", StringComparison.Ordinal) && !message.Contains(": 0 of", StringComparison.Ordinal))
            {
                break;
            }
        }
        await _user.CancelAsync(job.Id);
        Assert.Equal(JobState.Cancelled, (await _user.WaitForCompletionAsync(job.Id)).Status);
        var lines = await LogMessagesAsync(job.Id);
        Assert.InRange(lines.Count(l => l.Contains("] processed '", StringComparison.Ordinal)), 1, 8);
    }
}
