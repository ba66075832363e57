using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;
using Jobs.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.IntegrationTests.Reliability;

/// <summary>
/// A tag's index rows under faults: the projection transaction of a tag partition fails before or after it was applied
/// (answer lost), at the job's creation or at its ending. Once the job has ended and the reconciler (every second here)
/// has settled what the fault left, each tag partition shows the record's last change exactly (its four rows, its
/// markers, no stale row), counts the job once, and the listing by tag lists it in its final status.
/// </summary>
[Collection(FaultRunnerCollection.Name)]
public sealed class TagFaultTests(FaultRunnerFixture runner) : IDisposable
{
    private readonly string _owner = "tagfault-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _run = Guid.NewGuid().ToString("N")[..8];

    public void Dispose() => runner.Faults.Clear();

    public static TheoryData<string, FaultTiming> Moments => new()
    {
        { "pending", FaultTiming.BeforeApplied },
        { "pending", FaultTiming.AfterApplied },
        { "completed", FaultTiming.BeforeApplied },
        { "completed", FaultTiming.AfterApplied },
    };

    [Theory]
    [MemberData(nameof(Moments))]
    public async Task AFaultOnATagPartitionsProjection_LeavesNoStaleIndexRows_OnceTheReconcilerHasSettled(string status, FaultTiming timing)
    {
        string[] tags = [$"alpha-{_run}", $"beta:{_run}"];
        var injectedBefore = runner.Faults.Injected;
        runner.Faults.FailNth(r => r.IsBatch && r.BodyHas("\"PartitionKey\":\"" + TableKeys.TagIndexPrefix) && r.BodyHas(_owner)
            && r.BodyHas($"\"Status\":\"{status}\""), 1, timing);
        using var client = runner.Client(_owner);

        var id = await CreateAsync(client, new { type = "demo.steps", input = new { steps = 2, delayMs = 100 }, tags }, "tagfault-1");
        Assert.Equal("completed", (string?)(await RunnerFixture.WaitForEndAsync(client, id, TimeSpan.FromMinutes(2)))["status"]);
        // The ending's record is read as completed a moment before its projection is sent: wait for the fault itself.
        await Conditions.WaitUntilAsync(() => Task.FromResult(runner.Faults.Injected == injectedBefore + 1), "the fault on the tag partition to be injected");

        var problems = "";
        await Conditions.WaitUntilAsync(async () =>
        {
            problems = await TagProblemsAsync(id, tags);
            return problems.Length == 0;
        }, $"the tag partitions agree with the record: {problems}");
        foreach (var tag in tags)
        {
            var page = JsonNode.Parse(await client.GetStringAsync($"/api/jobs?tag={Uri.EscapeDataString(tag)}"))!;
            Assert.Equal([(id, "completed")], page["jobs"]!.AsArray().Select(j => ((string)j!["id"]!, (string)j["status"]!)));
            Assert.Equal(1, (long?)page["pagination"]!["total"]);
        }
    }

    private async Task<string> TagProblemsAsync(string id, IEnumerable<string> tags)
    {
        var job = (await runner.Store.GetAsync(id, CancellationToken.None))!;
        var layout = runner.Services.GetRequiredService<IndexLayout>();
        var counters = runner.Services.GetRequiredService<JobCounters>();
        var problems = new List<string>();
        foreach (var tag in tags)
        {
            var partition = TableKeys.TagIndexPartition(tag);
            var rows = new List<TableEntity>();
            await foreach (var row in runner.Storage.JobsTable.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {partition} and JobId eq {id}")))
            {
                rows.Add(row);
            }
            if (ProjectionCheck.ListRowProblem(layout, job, partition, rows) is { } problem)
            {
                problems.Add(problem);
            }
            var counts = (await counters.ReadAsync(new JobListScope.Tag(tag), CancellationToken.None)).ByKey.Where(c => c.Value != 0).ToList();
            if (counts is not [{ Value: 1 } only] || only.Key != new CountKey(_owner, job.Type, job.Status))
            {
                problems.Add($"{partition} counts {string.Join(", ", counts.Select(c => $"{c.Key.Owner}/{c.Key.Type}/{c.Key.Status.ToWire()}={c.Value}"))}");
            }
        }
        return string.Join("; ", problems);
    }

    /// <summary>Creates with an idempotency key, retrying a 503 (a fault at creation) with the same key; the job's id.</summary>
    private static async Task<string> CreateAsync(HttpClient client, object body, string key)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/jobs") { Content = JsonContent.Create(body) };
            request.Headers.Add("Idempotency-Key", key);
            using var response = await client.SendAsync(request);
            if (response.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.OK)
            {
                return (string)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["id"]!;
            }
            Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable && attempt < 5, $"create: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }
}
