using Azure.Data.Tables;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;

namespace Jobs.UnitTests.Storage;

/// <summary>The transaction that moves one list partition's view of a job, as planned (pure: no storage).</summary>
public sealed class ProjectionPlanTests
{
    private static readonly DateTimeOffset Created = new(2026, 12, 7, 3, 0, 0, TimeSpan.Zero);
    private static readonly Job Pending = new()
    {
        Id = new string('a', 32), Type = "demo.steps", Status = JobStatus.Pending, Owner = "alice", CreatedAt = Created, UpdatedAt = Created,
        Deadline = Created.AddHours(1),
    };

    private static readonly string All = new IndexLayout(1).AllPartitionOf(Pending.Id);
    private static readonly string Owner = TableKeys.OwnerIndexPartition("alice");

    private static IEnumerable<string> Keys(IEnumerable<TableTransactionAction> actions, TableTransactionActionType type) =>
        actions.Where(a => a.ActionType == type).Select(a => a.Entity.RowKey);

    [Fact]
    public void Creation_AddsTheMarker_FourRows_ACountDelta_TheLiveRowAndTheDirtyOwner_InTheAllJobsPartition()
    {
        var to = new ProjectedState(1, JobStatus.Pending, Created, Created);

        var plan = ProjectionPlan.Apply(Pending, All, allJobs: true, null, to, [Owner]);

        Assert.Equal([ProjectionPlan.BornMarkerRowKey(Pending.Id), ProjectionPlan.MarkerRowKey(Pending.Id, to)], Keys(plan.All, TableTransactionActionType.Add));
        var upserts = Keys(plan.All, TableTransactionActionType.UpsertReplace).ToList();
        Assert.Equal(4, upserts.Count(k => k[..3] is "cd-" or "ca-" or "ud-" or "ua-"));
        var delta = Assert.Single(plan.Required, a => a.Entity.RowKey.StartsWith("cnt-d-", StringComparison.Ordinal));
        Assert.Equal((null, "pending"), (((TableEntity)delta.Entity).GetString("From"), ((TableEntity)delta.Entity).GetString("To")));
        var live = Assert.Single(plan.Required, a => a.Entity.RowKey == TableKeys.ActiveRowKey(Pending.Deadline!.Value, Pending.Id));
        Assert.Equal(1, ((TableEntity)live.Entity).GetInt32("ProjectedSeq"));
        Assert.Contains(ProjectionPlan.DirtyRowKey(Owner), upserts);
        Assert.Empty(plan.Cleanup);
        Assert.Empty(Keys(plan.All, TableTransactionActionType.Delete));
    }

    [Fact]
    public void AChange_MovesTheMarker_RemovesTheUpdatedRowsOfTheStateItLeaves_AndCountsTheMoveOnce()
    {
        var from = new ProjectedState(1, JobStatus.Pending, Created, Created);
        var to = new ProjectedState(2, JobStatus.Running, Created.AddSeconds(5), Created);
        var running = Pending with { Status = JobStatus.Running };

        var plan = ProjectionPlan.Apply(running, Owner, allJobs: false, from, to, []);

        Assert.Equal([ProjectionPlan.MarkerRowKey(running.Id, from)], Keys(plan.Required, TableTransactionActionType.Delete));
        Assert.Equal([ProjectionPlan.MarkerRowKey(running.Id, to)], Keys(plan.Required, TableTransactionActionType.Add));
        Assert.Equal(
            new[] { TableKeys.IndexRowKey(IndexFamily.UpdatedDescending, Created, running.Id), TableKeys.IndexRowKey(IndexFamily.UpdatedAscending, Created, running.Id) }.Order(),
            Keys(plan.Cleanup, TableTransactionActionType.Delete).Order());
        var delta = (TableEntity)Assert.Single(plan.Required, a => a.Entity.RowKey.StartsWith("cnt-d-", StringComparison.Ordinal)).Entity;
        Assert.Equal(("pending", "running"), (delta.GetString("From"), delta.GetString("To")));
        // An owner's partition has no live-job row and names no dirty partition.
        Assert.DoesNotContain(plan.All, a => a.Entity.RowKey.StartsWith("live-", StringComparison.Ordinal) || a.Entity.RowKey.StartsWith("dirty-", StringComparison.Ordinal));
    }

    [Fact]
    public void ADemoJobsThreeChanges_Cost31EntitiesInItsAllJobsBucket_And25InItsOwners()
    {
        // The arithmetic behind the default bucket count (docs/scale.md): creation (pending), running, completed.
        var pending = new ProjectedState(1, JobStatus.Pending, Created, Created);
        var running = new ProjectedState(2, JobStatus.Running, Created.AddSeconds(1), Created);
        var completed = new ProjectedState(3, JobStatus.Completed, Created.AddSeconds(9), Created);
        int Entities(bool allJobs, JobStatus status, ProjectedState? from, ProjectedState to) =>
            ProjectionPlan.Apply(Pending with { Status = status }, allJobs ? All : Owner, allJobs, from, to, allJobs ? [Owner] : []).All.Count();

        Assert.Equal((9, 11, 11), (Entities(true, JobStatus.Pending, null, pending), Entities(true, JobStatus.Running, pending, running), Entities(true, JobStatus.Completed, running, completed)));
        Assert.Equal((7, 9, 9), (Entities(false, JobStatus.Pending, null, pending), Entities(false, JobStatus.Running, pending, running), Entities(false, JobStatus.Completed, running, completed)));
    }

    [Fact]
    public void AnEnding_DeletesTheLiveRow_InTheAllJobsPartition()
    {
        var from = new ProjectedState(2, JobStatus.Running, Created.AddSeconds(5), Created);
        var to = new ProjectedState(3, JobStatus.Completed, Created.AddSeconds(9), Created);

        var plan = ProjectionPlan.Apply(Pending with { Status = JobStatus.Completed }, All, allJobs: true, from, to, [Owner]);

        Assert.Contains(TableKeys.ActiveRowKey(Pending.Deadline!.Value, Pending.Id), Keys(plan.Cleanup, TableTransactionActionType.Delete));
        Assert.DoesNotContain(plan.Required, a => a.Entity.RowKey.StartsWith("live-", StringComparison.Ordinal));
    }

    [Fact]
    public void AChangeThatKeepsTheStatus_WritesNoCountDelta()
    {
        // A record restored behind the engine's back and ended again as it was: the rows move, the count does not.
        var from = new ProjectedState(3, JobStatus.Completed, Created.AddSeconds(9), Created);
        var to = new ProjectedState(4, JobStatus.Completed, Created.AddSeconds(20), Created);

        var plan = ProjectionPlan.Apply(Pending with { Status = JobStatus.Completed }, Owner, allJobs: false, from, to, []);

        Assert.DoesNotContain(plan.All, a => a.Entity.RowKey.StartsWith("cnt-", StringComparison.Ordinal));
    }

    [Fact]
    public void Removal_DeletesTheMarkerAndRows_AndCountsTheJobLeavingFromTheStatusThePartitionShowed()
    {
        var shown = new ProjectedState(3, JobStatus.Failed, Created.AddSeconds(9), Created);

        var plan = ProjectionPlan.Remove(Pending with { Status = JobStatus.Failed }, Owner, allJobs: false, shown, []);

        Assert.Equal([ProjectionPlan.MarkerRowKey(Pending.Id, shown), ProjectionPlan.BornMarkerRowKey(Pending.Id)], Keys(plan.Required, TableTransactionActionType.Delete));
        Assert.Equal(4, Keys(plan.Cleanup, TableTransactionActionType.Delete).Count());
        var delta = (TableEntity)Assert.Single(plan.Required, a => a.Entity.RowKey.StartsWith("cnt-d-", StringComparison.Ordinal)).Entity;
        Assert.Equal(("failed", null), (delta.GetString("From"), delta.GetString("To")));
    }

    [Fact]
    public void MarkerKeys_NameTheChangeAndItsStatus_SoAPlanFromAWrongGuessFails()
    {
        Assert.NotEqual(
            ProjectionPlan.MarkerRowKey(Pending.Id, new ProjectedState(3, JobStatus.Running, Created, Created)),
            ProjectionPlan.MarkerRowKey(Pending.Id, new ProjectedState(3, JobStatus.Completed, Created, Created)));
        var (from, to) = ProjectionPlan.MarkerRange(Pending.Id);
        var key = ProjectionPlan.MarkerRowKey(Pending.Id, new ProjectedState(12, JobStatus.TimedOut, Created, Created));
        Assert.True(string.CompareOrdinal(key, from) >= 0 && string.CompareOrdinal(key, to) < 0);
    }

    [Fact]
    public void AChangesCountDelta_CarriesTheRecordsTimes_SoTheMetricsRideInTheSameTransaction()
    {
        var started = Created.AddSeconds(2);
        var ended = started.AddSeconds(30);
        var failed = Pending with { Status = JobStatus.Failed, StartedAt = started, CompletedAt = ended };
        var from = new ProjectedState(2, JobStatus.Running, started, Created);
        var to = new ProjectedState(3, JobStatus.Failed, ended, Created);

        var plan = ProjectionPlan.Apply(failed, All, allJobs: true, from, to, [Owner]);

        var delta = (TableEntity)Assert.Single(plan.Required, a => a.Entity.RowKey.StartsWith("cnt-d-", StringComparison.Ordinal)).Entity;
        Assert.Equal((Created, started, ended), (delta.GetDateTimeOffset("CreatedAt"), delta.GetDateTimeOffset("StartedAt"), delta.GetDateTimeOffset("EndedAt")));
        Assert.Equal(
            [new Jobs.Functions.Metrics.MetricFact(Jobs.Functions.Metrics.MetricKind.Failed, ended, 30_000)],
            Jobs.Functions.Metrics.MetricFact.Of(JobStatus.Running, JobStatus.Failed, delta.GetDateTimeOffset("CreatedAt"), delta.GetDateTimeOffset("StartedAt"), delta.GetDateTimeOffset("EndedAt")));
    }
}
