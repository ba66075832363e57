using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Jobs.Tests.Infrastructure;

namespace Jobs.Tests.Api;

/// <summary>Parallel steps (<c>demo.fanout</c>, <c>jobs.bulk-cancel</c>) on the real durable engine.</summary>
[Collection(RunnerCollection.Name)]
public sealed class FanOutTests(RunnerFixture runner)
{
    private readonly HttpClient _user = runner.Client("fan-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task Items_RunInParallel_UpToTheLimit_WithAggregatedProgress_AndResultsInItemOrder()
    {
        string[] items = ["a", "b", "c", "d", "e", "f"];
        var id = (string)(await RunnerFixture.CreateJobAsync(_user, new { type = "demo.fanout", input = new { items, parallelism = 3, delayMs = 900 } }))["id"]!;
        var messages = new List<string>();
        JsonObject status;
        do
        {
            status = JsonNode.Parse(await _user.GetStringAsync($"/api/jobs/{id}/status"))!.AsObject();
            messages.Add((string?)status["message"] ?? "");
            await Task.Delay(50);
        }
        while ((string?)status["status"] is "pending" or "running");
        Assert.Equal("completed", (string?)status["status"]);
        // Progress counted items while the step ran.
        Assert.Contains(messages, m => m.StartsWith("Running process: ", StringComparison.Ordinal) && m.EndsWith(" of 6 items done", StringComparison.Ordinal)
            && !m.Contains(": 0 of", StringComparison.Ordinal) && !m.Contains(": 6 of", StringComparison.Ordinal));

        var result = JsonNode.Parse(await _user.GetStringAsync($"/api/jobs/{id}/result"))!["result"]!;
        var results = result["results"]!.AsArray();
        Assert.Equal(items, results.Select(r => (string)r!["item"]!));
        Assert.Equal(Enumerable.Range(0, 6), results.Select(r => (int)r!["index"]!));
        // The items overlapped in time — more than one at once, never more than the limit.
        var spans = results.Select(r => (Start: r!["startedAt"]!.GetValue<DateTimeOffset>(), End: r["endedAt"]!.GetValue<DateTimeOffset>())).ToList();
        var most = spans.Max(s => spans.Count(o => o.Start <= s.Start && s.Start < o.End));
        Assert.InRange(most, 2, 3);

        var lines = await RunnerFixture.LogMessagesOfEndedJobAsync(_user, id);
        Assert.Contains("[item 2 of 6] processed 'b'", lines);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AFailingItem_FailsTheJobNamingIt_AtOnceOrAfterTheOthers(bool finishOthers)
    {
        var id = (string)(await RunnerFixture.CreateJobAsync(_user, new
        {
            type = "demo.fanout", input = new { items = new[] { "a", "b", "c", "d" }, parallelism = 1, delayMs = 100, failItem = 2, finishOthers },
        }))["id"]!;
        var end = await RunnerFixture.WaitForEndAsync(_user, id, TimeSpan.FromSeconds(60));
        Assert.Equal("failed", (string?)end["status"]);
        var job = JsonNode.Parse(await _user.GetStringAsync($"/api/jobs/{id}"))!;
        Assert.StartsWith("Item 2 of 4: Item 2 ('b') failed", (string?)job["error"]!["message"], StringComparison.Ordinal);
        Assert.Equal("process", (string?)job["error"]!["step"]);
        var lines = await RunnerFixture.LogMessagesOfEndedJobAsync(_user, id);
        // Tried twice (the step's retry policy), then the job failed; with finishOthers the rest still ran.
        Assert.Equal(2, lines.Count(l => l.StartsWith("[item 2 of 4] failed", StringComparison.Ordinal)));
        Assert.Equal(finishOthers ? 3 : 1, lines.Count(l => l.Contains("] processed '", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task CancellingTheJob_StopsNewItems_AndEndsItCancelled()
    {
        var items = Enumerable.Range(1, 10).Select(n => $"i{n}").ToArray();
        var id = (string)(await RunnerFixture.CreateJobAsync(_user, new { type = "demo.fanout", input = new { items, parallelism = 2, delayMs = 1200 } }))["id"]!;
        await RunnerFixture.PollStatusAsync(_user, id, s => ((string?)s["message"])?.Contains(" of 10 items done", StringComparison.Ordinal) == true
            && !((string?)s["message"])!.Contains(": 0 of", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        using var cancel = await _user.PostAsync($"/api/jobs/{id}/cancel", null);
        var end = await RunnerFixture.WaitForEndAsync(_user, id, TimeSpan.FromSeconds(60));
        Assert.Equal("cancelled", (string?)end["status"]);
        var lines = await RunnerFixture.LogMessagesOfEndedJobAsync(_user, id);
        Assert.InRange(lines.Count(l => l.Contains("] processed '", StringComparison.Ordinal)), 1, 8);
    }

    [Fact]
    public async Task BulkCancel_CancelsEveryLiveJobOfItsOwner_AndNoOneElses()
    {
        var mine = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            mine.Add((string)(await RunnerFixture.CreateJobAsync(_user, new { type = "demo.steps", input = new { steps = 2, delayMs = 20_000 } }))["id"]!);
        }
        using var other = runner.Client("fan-other-" + Guid.NewGuid().ToString("N")[..8]);
        var theirs = (string)(await RunnerFixture.CreateJobAsync(other, new { type = "demo.steps", input = new { steps = 2, delayMs = 20_000 } }))["id"]!;

        var bulk = (string)(await RunnerFixture.CreateJobAsync(_user, new { type = "jobs.bulk-cancel", input = new { type = "demo.steps", parallelism = 2 } }))["id"]!;
        var end = await RunnerFixture.WaitForEndAsync(_user, bulk, TimeSpan.FromSeconds(60));
        Assert.Equal("completed", (string?)end["status"]);
        var result = JsonNode.Parse(await _user.GetStringAsync($"/api/jobs/{bulk}/result"))!;
        Assert.Equal(3, (int)result["result"]!["jobs"]!);
        foreach (var id in mine)
        {
            Assert.Equal("cancelled", (string?)(await RunnerFixture.WaitForEndAsync(_user, id, TimeSpan.FromSeconds(60)))["status"]);
        }
        Assert.Equal("running", (string?)JsonNode.Parse(await other.GetStringAsync($"/api/jobs/{theirs}/status"))!["status"]);
        using var stop = await other.PostAsync($"/api/jobs/{theirs}/cancel", null);
    }
}
