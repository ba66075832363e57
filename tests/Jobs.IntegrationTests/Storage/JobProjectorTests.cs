using Azure.Data.Tables;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;
using Jobs.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.IntegrationTests.Storage;

/// <summary>
/// The projector on Azurite: applying a change twice, late, or from several writers at once leaves the list rows of the
/// latest change and counts each change once. The jobs here have no record and no deadline (so no live-job row): the
/// projector is driven directly, and the reconciler has nothing to visit.
/// </summary>
[Collection(RunnerCollection.Name)]
public sealed class JobProjectorTests(RunnerFixture runner)
{
    private readonly string _owner = "proj-" + Guid.NewGuid().ToString("N")[..10];
    private readonly DateTimeOffset _t0 = DateTimeOffset.UtcNow;

    private JobProjector Projector => runner.Services.GetRequiredService<JobProjector>();

    private Job At(JobStatus status) => new()
    {
        Id = _id, Type = "demo.steps", Status = status, Owner = _owner, CreatedAt = _t0, UpdatedAt = _t0,
    };

    private readonly string _id = Guid.NewGuid().ToString("N");

    private (Job Job, JobStamp Stamp, ProjectedState State) Change(int seq, JobStatus status)
    {
        var stamp = new JobStamp(default, seq, _t0.AddSeconds(seq));
        var job = JobStamp.Attach(At(status), stamp);
        return (job, stamp, new ProjectedState(seq, status, stamp.ChangedAt, _t0));
    }

    [Fact]
    public async Task ApplyingAChangeAgain_AfterALostAnswer_OrWithoutKnowingWhatIsShown_ChangesNothing_AndCountsItOnce()
    {
        var (draft, draftStamp, draftState) = Change(1, JobStatus.Draft);
        await Projector.ApplyAsync(draft, draftStamp, Expected.Nothing, default);
        var (running, stamp, _) = Change(2, JobStatus.Running);

        await Projector.ApplyAsync(running, stamp, Expected.Shows(draftState), default);
        await Projector.ApplyAsync(running, stamp, Expected.Shows(draftState), default);
        await Projector.ApplyAsync(running, stamp, Expected.Unknown, default);
        await Projector.ApplyAsync(draft, draftStamp, Expected.Nothing, default);

        Assert.Equal("", await ProblemsAsync(running));
    }

    [Fact]
    public async Task AStaleProjection_ArrivingAfterALaterOne_ChangesNothing()
    {
        var (draft, draftStamp, draftState) = Change(1, JobStatus.Draft);
        await Projector.ApplyAsync(draft, draftStamp, Expected.Nothing, default);
        var (running, runningStamp, _) = Change(2, JobStatus.Running);
        var (completed, completedStamp, _) = Change(3, JobStatus.Completed);

        // The ending is projected first (its writer read what the partitions show); the running change's writer was slow.
        await Projector.ApplyAsync(completed, completedStamp, Expected.Unknown, default);
        await Projector.ApplyAsync(running, runningStamp, Expected.Shows(draftState), default);
        await Projector.ApplyAsync(running, runningStamp, Expected.Unknown, default);

        Assert.Equal("", await ProblemsAsync(completed));
    }

    [Fact]
    public async Task ManyWritersProjectingTheSameChangesAtOnce_LeaveTheLatest_CountedOnce()
    {
        var (draft, draftStamp, _) = Change(1, JobStatus.Draft);
        var (pending, pendingStamp, _) = Change(2, JobStatus.Pending);
        var (failed, failedStamp, _) = Change(3, JobStatus.Failed);

        await Task.WhenAll(Enumerable.Range(0, 12).Select(i => (i % 3) switch
        {
            0 => Projector.ApplyAsync(draft, draftStamp, Expected.Nothing, default),
            1 => Projector.ApplyAsync(pending, pendingStamp, Expected.Unknown, default),
            _ => Projector.ApplyAsync(failed, failedStamp, Expected.Unknown, default),
        }));
        await Projector.ApplyAsync(failed, failedStamp, Expected.Unknown, default); // whatever order they landed in, the last change is shown

        Assert.Equal("", await ProblemsAsync(failed));
    }

    [Fact]
    public async Task RemovingAJobTwice_AtOnce_TakesItOutOnce()
    {
        var (draft, draftStamp, draftState) = Change(1, JobStatus.Draft);
        await Projector.ApplyAsync(draft, draftStamp, Expected.Nothing, default);
        var (cancelled, stamp, _) = Change(2, JobStatus.Cancelled);
        await Projector.ApplyAsync(cancelled, stamp, Expected.Shows(draftState), default);

        await Task.WhenAll(Projector.RemoveAsync(cancelled, default), Projector.RemoveAsync(cancelled, default));
        await Projector.RemoveAsync(cancelled, default);

        Assert.Empty(await RowsAsync());
        var counts = await runner.Services.GetRequiredService<JobCounters>().ReadAsync(new JobListScope.Owner(_owner), default);
        Assert.All(counts.ByKey.Values, value => Assert.Equal(0, value));
        await runner.Services.GetRequiredService<JobCounters>().FoldAsync(TableKeys.OwnerIndexPartition(_owner), default);
        counts = await runner.Services.GetRequiredService<JobCounters>().ReadAsync(new JobListScope.Owner(_owner), default);
        Assert.Empty(counts.ByKey);
    }

    private async Task<List<TableEntity>> RowsAsync()
    {
        var rows = new List<TableEntity>();
        await foreach (var row in runner.Storage.JobsTable.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"JobId eq {_id}")))
        {
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>Rows and counts of the owner's and all-jobs partitions against <paramref name="job"/> ("" when they agree).</summary>
    private async Task<string> ProblemsAsync(Job job)
    {
        var rows = await RowsAsync();
        var problems = new List<string>();
        var layout = runner.Services.GetRequiredService<IndexLayout>();
        foreach (var partition in new[] { layout.AllPartitionOf(_id), TableKeys.OwnerIndexPartition(_owner) })
        {
            if (ProjectionCheck.ListRowProblem(layout, job, partition, [.. rows.Where(r => r.PartitionKey == partition)]) is { } problem)
            {
                problems.Add(problem);
            }
        }
        var counters = runner.Services.GetRequiredService<JobCounters>();
        if (ProjectionCheck.CountProblem(job, await counters.ReadAsync(new JobListScope.Owner(_owner), default)) is { } countProblem)
        {
            problems.Add(countProblem);
        }
        // Folded, the counter says the same.
        await counters.FoldAsync(TableKeys.OwnerIndexPartition(_owner), default);
        if (ProjectionCheck.CountProblem(job, await counters.ReadAsync(new JobListScope.Owner(_owner), default)) is { } folded)
        {
            problems.Add("after a fold: " + folded);
        }
        return string.Join("; ", problems);
    }
}
