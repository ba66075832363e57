using System.Text.Json.Nodes;
using Jobs.Testing;

namespace Jobs.IntegrationTests.Handlers;

/// <summary>The real I/O handler: reads the owner's jobs from Table storage and writes a CSV artifact (a blob).</summary>
[Collection(RunnerCollection.Name)]
public sealed class ExportJobsCsvIntegrationTests(RunnerFixture runner)
{
    [Fact]
    public async Task Export_WritesTheOwnersFilteredJobsAsCsv_WithProgressLogsAndResultMetadata()
    {
        using var client = runner.Client("exporter-" + Guid.NewGuid().ToString("N")[..8]);
        var done = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var id = (string)(await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 1 }, correlationId = $"c,{i}", entity = new { type = "release", id = "=1+1" } }))["id"]!;
            await RunnerFixture.WaitForEndAsync(client, id);
            done.Add(id);
        }
        var failed = (string)(await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 1, failAtStep = 1 } }))["id"]!;
        await RunnerFixture.WaitForEndAsync(client, failed);
        // List rows follow the record by a moment: wait until the listing shows all four ended.
        await Conditions.WaitUntilAsync(
            async () => JsonNode.Parse(await client.GetStringAsync("/api/jobs?status=completed,failed"))!["jobs"]!.AsArray().Count == 4,
            "the listing never showed the four ended jobs");

        var export = await RunnerFixture.CreateJobAsync(client, new { type = "jobs.export-csv", input = new { status = "completed" } });
        var exportId = (string)export["id"]!;
        var end = await RunnerFixture.WaitForEndAsync(client, exportId);
        Assert.Equal("completed", (string?)end["status"]);

        var result = JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{exportId}/result"))!;
        Assert.Equal(3, (int)result["result"]!["rowCount"]!);
        Assert.Equal("jobs.csv", (string?)result["metadata"]!["artifact"]);
        Assert.Equal("3", (string?)result["metadata"]!["rowCount"]);

        // The CSV is the job's artifact, downloaded through the API as its owner.
        var href = (string)result["result"]!["artifact"]!["href"]!;
        Assert.Equal($"/api/jobs/{exportId}/artifacts/jobs.csv", href);
        using var download = await client.GetAsync(href);
        Assert.Equal("text/csv", download.Content.Headers.ContentType?.MediaType);
        var csv = await download.Content.ReadAsStringAsync();
        var lines = csv.TrimEnd('\n').Split('\n');
        Assert.Equal("id,type,status,createdAt,updatedAt,correlationId,entityType,entityId", lines[0]);
        Assert.Equal(4, lines.Length);
        Assert.All(done, id => Assert.Contains(lines, l => l.StartsWith(id, StringComparison.Ordinal)));
        Assert.DoesNotContain(lines, l => l.StartsWith(failed, StringComparison.Ordinal));
        Assert.Contains("\"c,0\"", csv, StringComparison.Ordinal);
        Assert.Contains("'=1+1", csv, StringComparison.Ordinal);
        Assert.Equal(csv.Length, (long)result["result"]!["bytes"]!);

        var logs = await client.GetStringAsync($"/api/jobs/{exportId}/logs");
        Assert.Contains("Exported page 1: 3 rows so far.", logs, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Export_BadStatusFilter_IsRejectedBeforeTheJobIsAccepted()
    {
        using var client = runner.Client("exporter-bad");
        using var response = await client.PostAsync("/api/jobs",
            new StringContent("""{"type":"jobs.export-csv","input":{"status":"finished"}}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("input.status", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
