using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Jobs.Functions.Storage;
using Jobs.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.IntegrationTests.Api;

/// <summary><c>POST /api/jobs/bulk</c>: cancel, rerun and delete many jobs, scoped as listing is, with exact counts.</summary>
[Collection(RunnerCollection.Name)]
public sealed class BulkTests(RunnerFixture runner)
{
    [Fact]
    public async Task BulkCancel_ByFilter_CancelsEveryLiveJobOfItsOwner_AndNoOneElses()
    {
        using var client = runner.Client("bulk-c-" + Guid.NewGuid().ToString("N")[..8]);
        var live = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            // Long enough to be live when the bulk job runs; a cancel is seen at its next progress report (every second).
            live.Add(await CreateAsync(client, new { type = "demo.steps", input = new { steps = 30, delayMs = 4_000 } }));
        }
        var done = await EndedAsync(client, new { type = "demo.steps", input = new { steps = 1 } }, "completed");
        using var other = runner.Client("bulk-c-other-" + Guid.NewGuid().ToString("N")[..8]);
        var theirs = await CreateAsync(other, new { type = "demo.steps", input = new { steps = 30, delayMs = 4_000 } });

        var result = await BulkAsync(client, new { action = "cancel", filter = new { status = new[] { "pending", "running" } } });

        Assert.Equal(("cancel", 3), ((string?)result["action"], (int)result["matched"]!));
        Assert.Equal(3, Count(result["done"], "cancelled") + Count(result["done"], "cancel_requested"));
        Assert.Empty(result["skipped"]!.AsObject());
        foreach (var id in live)
        {
            Assert.Equal("cancelled", (string?)(await RunnerFixture.WaitForEndAsync(client, id))["status"]);
        }
        Assert.Equal("completed", (string?)(await Status(client, done))["status"]);
        Assert.Equal("running", (string?)(await RunnerFixture.PollStatusAsync(other, theirs, s => (string?)s["status"] != "pending"))["status"]);
        using var _ = await other.PostAsync($"/api/jobs/{theirs}/cancel", null);
    }

    [Fact]
    public async Task BulkRerun_ByIds_RerunsTheEndedOnes_LinkedToTheirOriginals_AndSaysWhyTheOthersWereSkipped()
    {
        using var client = runner.Client("bulk-r-" + Guid.NewGuid().ToString("N")[..8]);
        var failed = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            failed.Add(await EndedAsync(client, new { type = "demo.steps", input = new { steps = 2, failAtStep = 2, recoverOnRerun = true } }, "failed"));
        }
        var running = await CreateAsync(client, new { type = "demo.steps", input = new { steps = 1, delayMs = 600_000 } });
        using var other = runner.Client("bulk-r-other-" + Guid.NewGuid().ToString("N")[..8]);
        var theirs = await EndedAsync(other, new { type = "demo.steps", input = new { steps = 1, failAtStep = 1 } }, "failed");

        // An earlier bulk job: not rerun (its reach was decided for its own request), and that refusal is its own outcome.
        var earlier = await BulkJobAsync(client, new { action = "cancel", ids = new[] { Guid.NewGuid().ToString("N") } });

        var result = await BulkAsync(client, new { action = "rerun", ids = (string[])[.. failed, running, theirs, earlier, failed[0]] });

        Assert.Equal(7, (int)result["matched"]!); // the repeated id counts once
        Assert.Equal(4, Count(result["done"], "rerun"));
        Assert.Equal((1, 1, 1), (Count(result["skipped"], "not ended"), Count(result["skipped"], "not found"), Count(result["skipped"], "refused in its state")));
        Assert.Equal([(running, "not ended"), (theirs, "not found"), (earlier, "refused in its state")],
            result["skippedJobs"]!.AsArray().Select(j => ((string)j!["id"]!, (string)j["reason"]!)).OrderBy(j => j.Item2, StringComparer.Ordinal));
        foreach (var id in failed)
        {
            var rerunId = (string?)JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{id}"))!["rerunBy"];
            Assert.NotNull(rerunId);
            var rerun = await RunnerFixture.WaitForEndAsync(client, rerunId!);
            Assert.Equal("completed", (string?)rerun["status"]);
            Assert.Equal(id, (string?)JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{rerunId}"))!["rerunOf"]);
        }
        Assert.Null(JsonNode.Parse(await other.GetStringAsync($"/api/jobs/{theirs}"))!["rerunBy"]);
        using var _ = await client.PostAsync($"/api/jobs/{running}/cancel", null);
    }

    [Fact]
    public async Task BulkDelete_ByFilter_DeletesTheEndedJobs_AndKeepsTheLiveOne()
    {
        using var client = runner.Client("bulk-d-" + Guid.NewGuid().ToString("N")[..8]);
        var ended = new List<string>
        {
            await EndedAsync(client, new { type = "demo.steps", input = new { steps = 1 }, correlationId = "batch-7" }, "completed"),
            await EndedAsync(client, new { type = "demo.steps", input = new { steps = 1, failAtStep = 1 }, correlationId = "batch-7" }, "failed"),
        };
        var live = await CreateAsync(client, new { type = "demo.steps", input = new { steps = 1, delayMs = 600_000 }, correlationId = "batch-7" });
        var kept = await EndedAsync(client, new { type = "demo.steps", input = new { steps = 1 }, correlationId = "batch-8" }, "completed");
        foreach (var id in ended)
        {
            await WaitForOrchestrationEndAsync(client, id);
        }

        var result = await BulkAsync(client, new { action = "delete", filter = new { correlationId = "batch-7" } });

        Assert.Equal((3, 2, 1), ((int)result["matched"]!, Count(result["done"], "deleted"), Count(result["skipped"], "not ended")));
        foreach (var id in ended)
        {
            using var gone = await client.GetAsync($"/api/jobs/{id}");
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }
        var listed = JsonNode.Parse(await client.GetStringAsync("/api/jobs?type=demo.steps"))!["jobs"]!.AsArray().Select(j => (string)j!["id"]!);
        Assert.Equal(new[] { live, kept }.Order(StringComparer.Ordinal), listed.Order(StringComparer.Ordinal));
        using var _ = await client.PostAsync($"/api/jobs/{live}/cancel", null);
    }

    public static TheoryData<string, string> BadBulks => new()
    {
        { """{"action":"archive","ids":["0123456789abcdef0123456789abcdef"]}""", "action" },
        { """{"action":"cancel"}""", "ids" },
        { """{"action":"cancel","ids":["0123456789abcdef0123456789abcdef"],"filter":{"status":["failed"]}}""", "filter" },
        { """{"action":"cancel","filter":{}}""", "all" },
        { """{"action":"cancel","ids":[]}""", "ids" },
        { """{"action":"rerun","ids":["not-a-job-id"]}""", "ids[0]" },
        { """{"action":"cancel","filter":{"status":["exploded"]}}""", "filter.status" },
        { """{"action":"cancel","filter":{"type":["no.such.type"]}}""", "filter.type" },
        { """{"action":"cancel","filter":{"type":["t0","t1","t2","t3","t4","t5","t6","t7","t8","t9","t10"]}}""", "filter.type" },
        { """{"action":"cancel","filter":{"owner":"someone-else"}}""", "filter.owner" },
        { """{"action":"cancel","filter":{"entityType":"release"}}""", "filter.entityId" },
        { """{"action":"cancel","ids":["0123456789abcdef0123456789abcdef"],"turbo":true}""", "turbo" },
    };

    [Theory]
    [MemberData(nameof(BadBulks))]
    public async Task BadBulk_IsAProblemNamingTheField_AndCreatesNothing(string body, string field)
    {
        using var client = runner.Client("bulk-bad-" + Guid.NewGuid().ToString("N")[..8]);
        using var response = await client.PostAsync("/api/jobs/bulk", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {text}");
        Assert.Contains(JsonNode.Parse(text)!["errors"]!.AsArray(), e => (string?)e!["field"] == field);
        Assert.Empty(JsonNode.Parse(await client.GetStringAsync("/api/jobs"))!["jobs"]!.AsArray());
    }

    [Fact]
    public async Task TooManyIds_AndTheBulkTypeThroughTheCreateRoute_AreRefused()
    {
        using var client = runner.Client("bulk-bad-" + Guid.NewGuid().ToString("N")[..8]);
        var ids = Enumerable.Range(0, 1_000).Select(i => i.ToString("x32")).ToArray(); // over the cap, and over the input size too
        using var tooMany = await client.PostAsJsonAsync("/api/jobs/bulk", new { action = "cancel", ids });
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        Assert.Contains(JsonNode.Parse(await tooMany.Content.ReadAsStringAsync())!["errors"]!.AsArray(), e => (string?)e!["field"] == "ids");

        // Its input carries the scope the route decides: a forged one must not get in through POST /api/jobs.
        using var forged = await client.PostAsJsonAsync("/api/jobs", new { type = "jobs.bulk", input = new { action = "cancel", filter = new { }, all = true, allOwners = true } });
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Contains("POST /api/jobs/bulk", await forged.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(JsonNode.Parse(await client.GetStringAsync("/api/jobs"))!["jobs"]!.AsArray());
    }

    [Fact]
    public async Task AFilterMatchingMoreThanTenThousandJobs_IsRefusedAtTheRequest_NamingFilter_AndCreatesNothing()
    {
        var owner = "bulk-big-" + Guid.NewGuid().ToString("N")[..8];
        using var client = runner.Client(owner);
        // The owner's counts as 10,001 completed jobs would leave them (creating that many here would take minutes): the
        // request is answered from the counters, before any job is stored.
        var layout = runner.Services.GetRequiredService<IndexLayout>();
        foreach (var partition in layout.PartitionsOf(new JobListScope.Owner(owner)).Take(1))
        {
            await runner.Storage.JobsTable.AddEntityAsync(JobCounters.CounterRow(partition,
                new Dictionary<CountKey, long> { [new CountKey(owner, "demo.steps", Jobs.Functions.Model.JobStatus.Completed)] = 10_001 }));
        }

        using var response = await client.PostAsJsonAsync("/api/jobs/bulk", new { action = "delete", filter = new { status = new[] { "completed" } } });

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(JsonNode.Parse(text)!["errors"]!.AsArray(), e => (string?)e!["field"] == "filter");
        Assert.Empty(JsonNode.Parse(await client.GetStringAsync("/api/jobs"))!["jobs"]!.AsArray());

        // Within the cap the same request is taken.
        using var failedOnly = await client.PostAsJsonAsync("/api/jobs/bulk", new { action = "delete", filter = new { status = new[] { "failed" } } });
        Assert.Equal(HttpStatusCode.Accepted, failedOnly.StatusCode);
    }

    private static int Count(JsonNode? counts, string key) => counts?[key] is { } value ? (int)value : 0;

    private static async Task<JsonObject> BulkAsync(HttpClient client, object body)
    {
        var id = await BulkJobAsync(client, body);
        return JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{id}/result"))!["result"]!.AsObject();
    }

    /// <summary>Starts a bulk action and waits for its job to complete; its id.</summary>
    private static async Task<string> BulkJobAsync(HttpClient client, object body)
    {
        using var response = await client.PostAsJsonAsync("/api/jobs/bulk", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode}: {text}");
        var bulk = JsonNode.Parse(text)!;
        Assert.Equal("jobs.bulk", (string?)bulk["type"]);
        var id = (string)bulk["id"]!;
        Assert.Equal("completed", (string?)(await RunnerFixture.WaitForEndAsync(client, id, TimeSpan.FromSeconds(120)))["status"]);
        return id;
    }

    /// <summary>
    /// Waits until the job's orchestration has finished too (its record ends first): only then can it be deleted —
    /// before, a delete skips it as "still finishing".
    /// </summary>
    private static Task WaitForOrchestrationEndAsync(HttpClient client, string id) =>
        Conditions.WaitUntilAsync(async () =>
        {
            using var response = await client.GetAsync($"/api/jobs/{id}/instance");
            var status = (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())?["runtimeStatus"];
            return status is "Completed" or "Failed" or "Terminated";
        }, $"job {id}'s orchestration to end");

    private static async Task<string> CreateAsync(HttpClient client, object body) => (string)(await RunnerFixture.CreateJobAsync(client, body))["id"]!;

    private static async Task<string> EndedAsync(HttpClient client, object body, string expected)
    {
        var id = await CreateAsync(client, body);
        Assert.Equal(expected, (string?)(await RunnerFixture.WaitForEndAsync(client, id))["status"]);
        return id;
    }

    private static async Task<JsonObject> Status(HttpClient client, string id) =>
        JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{id}/status"))!.AsObject();
}
