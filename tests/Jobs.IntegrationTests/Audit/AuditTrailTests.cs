using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Jobs.Functions.Maintenance;
using Jobs.Testing;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.IntegrationTests.Audit;

/// <summary>
/// <c>GET /api/jobs/{id}/audit</c> on the runner: each action on a job leaves exactly one entry saying who (principal
/// id, name, identity provider, client address), when and what — and an action refused leaves none.
/// </summary>
[Collection(RunnerCollection.Name)]
public sealed class AuditTrailTests(RunnerFixture runner)
{
    private readonly string _owner = "aud-" + Guid.NewGuid().ToString("N")[..8];

    private static object LongJob => new { type = "demo.steps", input = new { steps = 1, delayMs = 600_000 } };

    [Fact]
    public async Task Draft_CreatedEditedSubmitted_EachLeavesOneEntry_WithWhoWhenAndWhat()
    {
        using var client = runner.Client(_owner);
        var before = DateTimeOffset.UtcNow;
        var id = (string)(await AuditTrail.CreateDraftAsync(client, new { steps = 1 }))["id"]!;
        using (var edited = await client.PatchAsJsonAsync($"/api/jobs/{id}", new { input = new { steps = 2 }, correlationId = "c-1" }))
        {
            Assert.Equal(HttpStatusCode.OK, edited.StatusCode);
        }
        using (var submitted = await client.PostAsync($"/api/jobs/{id}/submit", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        }
        var after = DateTimeOffset.UtcNow;

        var entries = await AuditTrail.EntriesAsync(client, id);

        Assert.Equal(["created", "draft_edited", "submitted"], entries.Select(e => (string)e["action"]!));
        Assert.All(entries, e => AuditTrail.ByUser(e, _owner));
        Assert.All(entries, e => AuditTrail.Between(e, before, after));
        Assert.Equal("draft", (string?)entries[0]["details"]!["status"]);
        Assert.Equal(("replaced", "c-1"), ((string?)entries[1]["details"]!["input"], (string?)entries[1]["details"]!["correlationId"]));
        await RunnerFixture.WaitForEndAsync(client, id);
    }

    [Fact]
    public async Task Create_FromAnUntrustedPeer_RecordsThePeer_NotItsXForwardedFor()
    {
        using var client = runner.Client(_owner);
        client.DefaultRequestHeaders.Add("X-Forwarded-For", "203.0.113.9");

        var id = (string)(await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 1 } }))["id"]!;

        var created = AuditTrail.Single(await AuditTrail.EntriesAsync(client, id), "created");
        AuditTrail.ByUser(created, _owner, clientAddress: "127.0.0.1");
        Assert.Equal("pending", (string?)created["details"]!["status"]);
        await RunnerFixture.WaitForEndAsync(client, id);
    }

    [Fact]
    public async Task Cancel_ByAnAdmin_OfSomeoneElsesRunningJob_IsOneEntryNamingTheAdmin_ThatTheOwnerSeesWithoutTheAdminsAddress()
    {
        using var owner = runner.Client(_owner);
        var admin = "root-" + Guid.NewGuid().ToString("N")[..6];
        using var adminClient = runner.Client(admin, "admin");
        var id = (string)(await RunnerFixture.CreateJobAsync(owner, LongJob))["id"]!;
        await RunnerFixture.PollStatusAsync(owner, id, s => (string?)s["status"] == "running");

        using (var cancel = await adminClient.PostAsync($"/api/jobs/{id}/cancel", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        }

        var entries = await AuditTrail.EntriesAsync(owner, id);
        Assert.Equal(["created", "cancel_requested"], entries.Select(e => (string)e["action"]!));
        AuditTrail.ByUser(entries[0], _owner);
        AuditTrail.ByUser(entries[1], admin, clientAddress: null);
        AuditTrail.ByUser((await AuditTrail.EntriesAsync(adminClient, id))[1], admin);
        Assert.Equal(("requested", "running"), ((string?)entries[1]["details"]!["effect"], (string?)entries[1]["details"]!["from"]));
    }

    [Fact]
    public async Task Cancel_OfAnEndedJob_IsRefused_WritesNoEntry_AndChangesNothingStored()
    {
        using var client = runner.Client(_owner);
        var id = (string)(await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 1 } }))["id"]!;
        await RunnerFixture.WaitForEndAsync(client, id);
        await RunnerFixture.LogMessagesOfEndedJobAsync(client, id);
        var stored = await AuditTrail.PartitionAsync(runner.Storage.JobsTable, id);

        using var cancel = await client.PostAsync($"/api/jobs/{id}/cancel", null);

        Assert.Equal(HttpStatusCode.Conflict, cancel.StatusCode);
        Assert.Equal(["created"], (await AuditTrail.EntriesAsync(client, id)).Select(e => (string)e["action"]!));
        Assert.Equal(stored, await AuditTrail.PartitionAsync(runner.Storage.JobsTable, id));
    }

    [Fact]
    public async Task Rerun_LeavesOneEntryOnTheOriginal_AndACreatedEntryOnTheNewJob_NamingEachOther()
    {
        using var client = runner.Client(_owner);
        var original = (string)(await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 1 } }))["id"]!;
        await RunnerFixture.WaitForEndAsync(client, original);

        using var rerun = await client.PostAsJsonAsync($"/api/jobs/{original}/rerun", new { });
        Assert.Equal(HttpStatusCode.Accepted, rerun.StatusCode);
        var rerunId = (string)JsonNode.Parse(await rerun.Content.ReadAsStringAsync())!["id"]!;

        var onOriginal = await AuditTrail.EntriesAsync(client, original);
        Assert.Equal(["created", "rerun"], onOriginal.Select(e => (string)e["action"]!));
        AuditTrail.ByUser(onOriginal[1], _owner);
        Assert.Equal(rerunId, (string?)onOriginal[1]["details"]!["rerunJob"]);
        var created = Assert.Single(await AuditTrail.EntriesAsync(client, rerunId));
        Assert.Equal("created", (string?)created["action"]);
        AuditTrail.ByUser(created, _owner);
        Assert.Equal(original, (string?)created["details"]!["rerunOf"]);
        await RunnerFixture.WaitForEndAsync(client, rerunId);
    }

    [Fact]
    public async Task TerminateAndPurge_ThroughTheJobsLinks_EachLeaveOneEntry_WithTheReason()
    {
        using var client = runner.Client(_owner);
        var created = await RunnerFixture.CreateJobAsync(client, LongJob);
        var id = (string)created["id"]!;
        await RunnerFixture.PollStatusAsync(client, id, s => (string?)s["status"] == "running");

        using (var terminate = await client.PostAsync(((string)created["terminatePostUri"]!).Replace("{text}", "operator+stop", StringComparison.Ordinal), null))
        {
            Assert.Equal(HttpStatusCode.Accepted, terminate.StatusCode);
        }
        await RunnerFixture.WaitForRuntimeStatusAsync(client, (string)created["statusQueryGetUri"]!, "Terminated");
        using (var purge = await client.DeleteAsync((string)created["purgeHistoryDeleteUri"]!))
        {
            Assert.Equal(HttpStatusCode.OK, purge.StatusCode);
        }

        var entries = await AuditTrail.EntriesAsync(client, id);
        Assert.Equal(["created", "terminated", "instance_purged"], entries.Select(e => (string)e["action"]!));
        Assert.All(entries, e => AuditTrail.ByUser(e, _owner));
        Assert.Equal(("operator stop", "terminate link"), ((string?)entries[1]["details"]!["reason"], (string?)entries[1]["details"]!["via"]));
    }

    [Fact]
    public async Task NativeTerminate_NeverReachesTheApp_ButTheReconcilerRecordsWhatItObserved()
    {
        using var client = runner.Client(_owner);
        var id = (string)(await RunnerFixture.CreateJobAsync(client, LongJob))["id"]!;
        await RunnerFixture.PollStatusAsync(client, id, s => (string?)s["status"] == "running");
        var durable = runner.Services.GetRequiredService<DurableTaskClient>();
        await durable.TerminateInstanceAsync(id, "ops stopped it");
        await Conditions.WaitUntilAsync(async () => (await durable.GetInstanceAsync(id))?.RuntimeStatus == OrchestrationRuntimeStatus.Terminated,
            "the orchestration to be terminated");

        await runner.Services.GetRequiredService<JobReconciler>().RunAsync(durable, CancellationToken.None);

        var terminated = AuditTrail.Single(await AuditTrail.EntriesAsync(client, id), "terminated");
        Assert.Equal(("system", "reconciler"), ((string?)terminated["actor"]!["kind"], (string?)terminated["actor"]!["id"]));
        Assert.Equal("native Durable API", (string?)terminated["details"]!["via"]);
        Assert.Contains("ops stopped it", (string?)terminated["details"]!["reason"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task BulkCancel_LeavesOneEntryOnEachJobItTouched_NamingTheBulkJob()
    {
        using var client = runner.Client(_owner);
        var ids = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            var id = (string)(await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 1 }, notBefore = DateTimeOffset.UtcNow.AddDays(1) }))["id"]!;
            ids.Add(id);
        }

        using var bulk = await client.PostAsJsonAsync("/api/jobs/bulk", new { action = "cancel", ids });
        Assert.Equal(HttpStatusCode.Accepted, bulk.StatusCode);
        var bulkId = (string)JsonNode.Parse(await bulk.Content.ReadAsStringAsync())!["id"]!;
        await RunnerFixture.WaitForEndAsync(client, bulkId);

        foreach (var id in ids)
        {
            var cancel = AuditTrail.Single(await AuditTrail.EntriesAsync(client, id), "cancel_requested");
            Assert.Equal(("user", _owner), ((string?)cancel["actor"]!["kind"], (string?)cancel["actor"]!["id"]));
            Assert.Equal((bulkId, "cancelled"), ((string?)cancel["details"]!["bulkJob"], (string?)cancel["details"]!["effect"]));
        }
        AuditTrail.ByUser(AuditTrail.Single(await AuditTrail.EntriesAsync(client, bulkId), "created"), _owner);
    }

    [Fact]
    public async Task BulkDelete_RecordsEachDeletionInTheDeletionLog_NamingTheBulkJob()
    {
        using var client = runner.Client(_owner);
        var created = await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 1 } });
        var id = (string)created["id"]!;
        await RunnerFixture.WaitForEndAsync(client, id);
        // A delete waits for the orchestration's last write too (else the bulk skips it as still finishing).
        await RunnerFixture.WaitForRuntimeStatusAsync(client, (string)created["statusQueryGetUri"]!, "Completed");
        var before = DateTimeOffset.UtcNow;

        using var bulk = await client.PostAsJsonAsync("/api/jobs/bulk", new { action = "delete", ids = new[] { id } });
        var bulkId = (string)JsonNode.Parse(await bulk.Content.ReadAsStringAsync())!["id"]!;
        await RunnerFixture.WaitForEndAsync(client, bulkId);

        using (var gone = await client.GetAsync($"/api/jobs/{id}/audit"))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }
        var log = runner.Services.GetRequiredService<Jobs.Functions.Storage.JobAuditLog>();
        var deleted = await log.ReadDeletionAsync(id, DateTimeOffset.UtcNow, CancellationToken.None)
            ?? await log.ReadDeletionAsync(id, before, CancellationToken.None);
        Assert.NotNull(deleted);
        Assert.Equal(("deleted", "user", _owner, bulkId), (deleted.Action, deleted.Actor.Kind, deleted.Actor.Id, deleted.Details["bulkJob"]));
    }

    [Fact]
    public async Task ACreateReplayedByItsIdempotencyKey_IsStillOneCreatedEntry()
    {
        using var client = runner.Client(_owner);
        var body = new { type = "demo.steps", input = new { steps = 1 }, idempotencyKey = "once-" + _owner };
        var id = (string)(await RunnerFixture.CreateJobAsync(client, body))["id"]!;

        using var replay = await client.PostAsJsonAsync("/api/jobs", body);

        Assert.True(replay.Headers.Contains("Idempotent-Replayed"));
        Assert.Single(await AuditTrail.EntriesAsync(client, id));
        await RunnerFixture.WaitForEndAsync(client, id);
    }

    [Fact]
    public async Task Audit_OfAnotherOwnersJob_IsTheJobs404_AndABadCursorIsA400NamingAfter()
    {
        using var client = runner.Client(_owner);
        using var stranger = runner.Client("stranger-" + Guid.NewGuid().ToString("N")[..6]);
        var id = (string)(await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 1 } }))["id"]!;

        using var hidden = await stranger.GetAsync($"/api/jobs/{id}/audit");
        using var badCursor = await client.GetAsync($"/api/jobs/{id}/audit?after=job");

        Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badCursor.StatusCode);
        Assert.Equal("application/problem+json", badCursor.Content.Headers.ContentType?.MediaType);
        Assert.Contains("after", await badCursor.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await RunnerFixture.WaitForEndAsync(client, id);
    }

    [Fact]
    public async Task Audit_PagesWithItsCursor_AndTheCursorStaysPutWhenNothingIsNew()
    {
        using var client = runner.Client(_owner);
        var id = (string)(await AuditTrail.CreateDraftAsync(client, new { steps = 1 }))["id"]!;
        using (await client.PatchAsJsonAsync($"/api/jobs/{id}", new { input = new { steps = 2 } }))
        {
        }

        var first = JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{id}/audit?limit=1"))!;
        var second = JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{id}/audit?limit=1&after={(string)first["next"]!}"))!;
        var third = JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{id}/audit?limit=1&after={(string)second["next"]!}"))!;

        Assert.Equal(("created", true), ((string?)first["entries"]![0]!["action"], (bool)first["hasMore"]!));
        Assert.Equal(("draft_edited", false), ((string?)second["entries"]![0]!["action"], (bool)second["hasMore"]!));
        Assert.Empty(third["entries"]!.AsArray());
        Assert.Equal((string?)second["next"], (string?)third["next"]);
    }
}
