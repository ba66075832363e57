using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Jobs.Testing;
using Xunit.Abstractions;

namespace Jobs.RunnerTests;

/// <summary>
/// A job waiting for a person survives the runner's <c>kill -9</c> (issue 31): after a fresh start it is still
/// <c>waiting</c>, listed so, with its question, and the answer sent to the new process wakes its orchestration, which
/// runs the decided step and nothing before it again.
/// </summary>
[TakesAbout(30)]
public sealed class DecisionRestartTests(ITestOutputHelper output) : IDisposable
{
    private readonly RunnerProcess _runner = new(_ => { }, new Dictionary<string, string>
    {
        ["Jobs__Runner__TestOverrides__WorkItemVisibilityTimeout"] = "00:00:30",
        ["Jobs__Runner__TestOverrides__ControlQueueVisibilityTimeout"] = "00:00:30",
    });

    [Fact]
    public async Task KilledWhileAJobWaitsForADecision_TheJobStillWaits_AndTheAnswerAfterTheRestartFinishesIt()
    {
        await _runner.StartAsync();
        var client = _runner.Client;
        var created = await RunnerFixture.CreateJobAsync(client, new { type = "demo.approval", input = new { question = "Deploy 2.0?" } });
        var id = (string)created["id"]!;
        await RunnerFixture.PollStatusAsync(client, id, s => (string?)s["status"] == "waiting", TimeSpan.FromSeconds(60));

        await _runner.KillAsync();
        await _runner.StartAsync();

        var job = JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{id}"))!;
        Assert.Equal("waiting", (string?)job["status"]);
        Assert.Equal("Deploy 2.0?", (string?)job["decision"]!["question"]);
        var listed = JsonNode.Parse(await client.GetStringAsync("/api/jobs?status=waiting"))!["jobs"]!.AsArray();
        Assert.Contains(listed, j => (string?)j!["id"] == id);

        using var answer = await client.PostAsJsonAsync($"/api/jobs/{id}/decisions/deploy", new { decision = "approve" });
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var decidedAt = (DateTimeOffset)JsonNode.Parse(await answer.Content.ReadAsStringAsync())!["decision"]!["decidedAt"]!;

        var end = await RunnerFixture.WaitForEndAsync(client, id, TimeSpan.FromSeconds(150));
        Assert.Equal("completed", (string?)end["status"]);
        var lines = JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{id}/logs?limit=1000"))!["lines"]!.AsArray();
        var messages = lines.Select(l => (string)l!["message"]!).ToList();
        Assert.Single(messages, m => m.StartsWith("Step prepare started", StringComparison.Ordinal));
        Assert.Single(messages, m => m.StartsWith("Waiting for a decision (deploy)", StringComparison.Ordinal));
        var started = lines.Single(l => ((string)l!["message"]!).StartsWith("Step deploy started", StringComparison.Ordinal))!;
        output.WriteLine($"decision after a restart → step deploy started: {((DateTimeOffset)started["timestamp"]! - decidedAt).TotalMilliseconds:F0} ms");
    }

    public void Dispose() => _runner.Dispose();
}
