using System.Net;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;
using Jobs.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.IntegrationTests.Audit;

/// <summary>
/// Retention deletes a job's audit trail with it, and records the deletion in the deletion log (a partition per day),
/// whose days past <c>Jobs:Retention:DeletionLogDays</c> the same timer prunes (every second in this fixture).
/// </summary>
[Collection(MaintenanceRunnerCollection.Name)]
public sealed class AuditRetentionTests(MaintenanceRunnerFixture runner)
{
    private JobAuditLog Log => runner.Services.GetRequiredService<JobAuditLog>();

    [Fact]
    public async Task Retention_DeletesTheTrailWithTheJob_AndTheDeletionLogSaysRetentionDeletedIt()
    {
        var owner = "audr-" + Guid.NewGuid().ToString("N")[..8];
        using var client = runner.Client(owner);
        var id = (string)(await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 1 } }))["id"]!;
        await RunnerFixture.WaitForEndAsync(client, id);
        Assert.NotEmpty(await Log.ReadAsync(id, null, 10, CancellationToken.None));
        var before = DateTimeOffset.UtcNow;

        await Conditions.WaitUntilAsync(async () =>
        {
            using var response = await client.GetAsync($"/api/jobs/{id}");
            return response.StatusCode == HttpStatusCode.NotFound;
        }, "retention to delete the job");

        Assert.Empty(await Log.ReadAsync(id, null, 10, CancellationToken.None));
        // Written on the day it was deleted: today, or — across midnight — the day this test started waiting.
        var deleted = await Log.ReadDeletionAsync(id, DateTimeOffset.UtcNow, CancellationToken.None)
            ?? await Log.ReadDeletionAsync(id, before, CancellationToken.None);
        Assert.NotNull(deleted);
        Assert.Equal((AuditActions.Deleted, "system", "retention", "completed"),
            (deleted.Action, deleted.Actor.Kind, deleted.Actor.Id, deleted.Details["status"]));
    }

    [Fact]
    public async Task Retention_PrunesDeletionLogDaysPastTheirTime_AndKeepsRecentOnes()
    {
        var now = runner.Store.Now;
        Job Gone(string id) => new() { Id = id, Type = "demo.steps", Status = JobStatus.Completed, Owner = "audr-old" };
        var old = Guid.NewGuid().ToString("N");
        var recent = Guid.NewGuid().ToString("N");
        var entry = Log.NewEntry(AuditActions.Deleted, AuditActor.System("retention"));
        await Log.RecordDeletionAsync(Gone(old), entry with { At = now.AddDays(-400) }, CancellationToken.None);
        await Log.RecordDeletionAsync(Gone(recent), entry with { At = now.AddDays(-2) }, CancellationToken.None);

        await Conditions.WaitUntilAsync(async () => await Log.ReadDeletionAsync(old, now.AddDays(-400), CancellationToken.None) is null,
            "retention to prune the 400-day-old deletion log entry");

        Assert.NotNull(await Log.ReadDeletionAsync(recent, now.AddDays(-2), CancellationToken.None));
    }
}
