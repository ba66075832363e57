using Jobs.Functions.Model;
using Jobs.Functions.Storage;
using Jobs.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.IntegrationTests.Storage;

/// <summary>The record and its new log lines, read back from Azurite in one query of the job's partition.</summary>
[Collection(RunnerCollection.Name)]
public sealed class JobPartitionReaderTests(RunnerFixture runner)
{
    [Fact]
    public async Task ALineHandedOverTwice_IsWrittenOnce_InsteadOfFailingTheTransaction()
    {
        // A transaction naming one row twice is refused whole by the storage service (and by Azurite), and a retry of it
        // would be refused again: the engine's writes must hand each line over once, whatever their callers passed.
        var store = runner.Store;
        var logs = runner.Services.GetRequiredService<JobLogStore>();
        var now = store.Now;
        var job = await store.CreateAsync(new Job
        {
            Id = Guid.NewGuid().ToString("N"), Type = "demo.steps", Status = JobStatus.Pending, Owner = "dup-" + Guid.NewGuid().ToString("N")[..8],
            CreatedAt = now, UpdatedAt = now, Deadline = now.AddHours(1),
        }, default);
        var line = logs.NewLine(JobLogLevel.Information, "once", "step-1");
        var other = logs.NewLine(JobLogLevel.Information, "twice in one call", "step-1");

        await store.UpdateAsync(job, current => current with { Progress = 3 }, default, new JobWrite { Lines = [line, line], ChangeLines = [] });
        await logs.WriteAsync(job.Id, [other, other], default);

        var read = await logs.ReadAsync(job.Id, null, 100, default);
        Assert.Equal(["once", "twice in one call"], read.Select(l => l.Message));
    }

    [Fact]
    public async Task ReadsTheRecordAndTheLinesAfterACursor_InOrder_AsTheyWereWritten()
    {
        var store = runner.Store;
        var logs = runner.Services.GetRequiredService<JobLogStore>();
        var reader = runner.Services.GetRequiredService<JobPartitionReader>();
        var now = store.Now;
        var job = await store.CreateAsync(new Job
        {
            Id = Guid.NewGuid().ToString("N"), Type = "demo.steps", Status = JobStatus.Pending, Owner = "reader-" + Guid.NewGuid().ToString("N")[..8],
            Progress = 7, Message = "Waiting to start", CreatedAt = now, UpdatedAt = now, Deadline = now.AddHours(1),
            Metadata = new Dictionary<string, string> { ["k"] = "v" },
        }, default);
        var first = logs.NewLine(JobLogLevel.Information, "first", "step-1");
        var second = logs.NewLine(JobLogLevel.Warning, "second", "step-1");
        // The second line goes in the record's own transaction, the way the engine writes lines with a change.
        await logs.WriteAsync(job.Id, [first], default);
        var updated = await store.UpdateAsync(job, current => current with { Progress = 9 }, default, new JobWrite { Lines = [second] });
        var third = await logs.AppendAsync(job.Id, JobLogLevel.Error, "third", null, default);

        var all = await reader.ReadAsync(job.Id, null, 100, default);
        Assert.NotNull(all.Job);
        Assert.Equal(JobStamp.Of(updated!.Job)!.ETag, JobStamp.Of(all.Job)!.ETag);
        Assert.Equal((job.Id, job.Owner, JobStatus.Pending, 9, "v"), (all.Job.Id, all.Job.Owner, all.Job.Status, all.Job.Progress, all.Job.Metadata["k"]));
        Assert.Equal(["first", "second", "third"], all.Lines.Select(l => l.Message));
        Assert.Equal([JobLogLevel.Information, JobLogLevel.Warning, JobLogLevel.Error], all.Lines.Select(l => l.Level));
        Assert.Equal(await logs.ReadAsync(job.Id, null, 100, default), all.Lines);

        var after = await reader.ReadAsync(job.Id, first.Cursor, 100, default);
        Assert.Equal(["second", "third"], after.Lines.Select(l => l.Message));
        Assert.NotNull(after.Job);
        var capped = await reader.ReadAsync(job.Id, null, 2, default);
        Assert.Equal(["first", "second"], capped.Lines.Select(l => l.Message));
        Assert.Empty((await reader.ReadAsync(job.Id, third.Cursor, 100, default)).Lines);
        var missing = await reader.ReadAsync(Guid.NewGuid().ToString("N"), null, 100, default);
        Assert.Null(missing.Job);
        Assert.Empty(missing.Lines);
    }
}
