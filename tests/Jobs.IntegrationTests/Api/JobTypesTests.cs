using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Jobs.Testing;

namespace Jobs.IntegrationTests.Api;

/// <summary><c>GET /api/job-types</c> in a deployment with a type whose input has a required field.</summary>
[Collection(TestHandlersRunnerCollection.Name)]
public sealed class JobTypesTests(TestHandlersRunnerFixture runner)
{
    private readonly HttpClient _client = runner.Client("types-" + Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    public async Task JobTypes_TypeWithRequiredInput_IsListedWithItsDeclaredSteps()
    {
        using var response = await _client.GetAsync("/api/job-types");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");

        var types = JsonNode.Parse(text)!["jobTypes"]!.AsArray();
        Assert.Equal(["demo.approval", "demo.fanout", "demo.limited", "demo.steps", "jobs.bulk", "jobs.export-csv", ImportHandler.TypeName, LeaseHandler.TypeName], types.Select(t => (string)t!["type"]!));
        var import = types.Single(t => (string)t!["type"]! == ImportHandler.TypeName)!;
        Assert.Equal(["fetch", "import"], import["steps"]!.AsArray().Select(s => (string)s!));
        Assert.NotNull(import["inputSchema"]!["properties"]!["source"]);
        Assert.Equal(5, types.Single(t => (string)t!["type"]! == "demo.steps")!["steps"]!.AsArray().Count);
    }

    [Fact]
    public async Task InputSchemas_CarryTheRulesTheApiEnforces()
    {
        var types = JsonNode.Parse(await _client.GetStringAsync("/api/job-types"))!["jobTypes"]!.AsArray();
        var steps = types.Single(t => (string)t!["type"]! == "demo.steps")!["inputSchema"]!["properties"]!["steps"]!;
        Assert.Equal((1, 50), ((int)steps["minimum"]!, (int)steps["maximum"]!)); // [Range(1, 50)]
        var import = types.Single(t => (string)t!["type"]! == ImportHandler.TypeName)!["inputSchema"]!;
        Assert.Contains("source", import["required"]!.AsArray().Select(r => (string?)r)); // [Required]
    }

    [Fact]
    public async Task TypeWithRequiredInput_RefusesAJobWithoutIt_AndRunsTheDeclaredStepsWithIt()
    {
        using var missing = await _client.PostAsJsonAsync("/api/jobs", new { type = ImportHandler.TypeName });
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Contains("input.source", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var created = await RunnerFixture.CreateJobAsync(_client, new { type = ImportHandler.TypeName, input = new { source = "s3://bucket/file" } });
        var ended = await RunnerFixture.WaitForEndAsync(_client, (string)created["id"]!);
        Assert.Equal("completed", (string?)ended["status"]);
        Assert.Equal(2, (int)ended["stepCount"]!);
    }
}
