using Jobs.Client;
using Jobs.Testing;

namespace Jobs.IntegrationTests.Api;

/// <summary>
/// The step timeline a job's record keeps (<c>steps</c> on <c>GET /api/jobs/{id}</c>), from real runs on the durable
/// engine, read through Jobs.Client.
/// </summary>
[Collection(SecondRunnerCollection.Name)]
public sealed class StepTimelineTests(RunnerFixture runner)
{
    private readonly JobsClient _user = new(runner.Client("tl-" + Guid.NewGuid().ToString("N")[..8]));

    [Fact]
    public async Task Steps_AreRecordedInOrder_WithStartEndAndAttempts_AndTheLastEndsWithTheJob()
    {
        // flaky: each step's first attempt fails and its retry succeeds.
        var created = await _user.CreateAsync(new CreateJobRequest { Type = "demo.steps", Input = new { steps = 3, delayMs = 100, flaky = true } });
        Assert.Equal(JobState.Completed, (await _user.WaitForCompletionAsync(created.Id)).Status);
        var job = await _user.GetAsync(created.Id);

        Assert.Equal(["step-1", "step-2", "step-3"], job.Steps.Select(s => s.Name));
        Assert.Equal([0, 1, 2], job.Steps.Select(s => s.Index));
        Assert.All(job.Steps, s => Assert.Equal(("completed", 2), (s.Status, s.Attempts)));
        Assert.Equal(job.StartedAt, job.Steps[0].StartedAt);
        for (var i = 0; i < job.Steps.Count; i++)
        {
            Assert.True(job.Steps[i].StartedAt <= job.Steps[i].EndedAt, $"step {i} ends after it starts");
            if (i > 0)
            {
                Assert.True(job.Steps[i - 1].EndedAt <= job.Steps[i].StartedAt, $"step {i} starts after step {i - 1} ended");
            }
        }
        Assert.Equal(job.CompletedAt, job.Steps[^1].EndedAt);
        Assert.All(job.Steps, s => Assert.Null(s.Items));
    }

    [Fact]
    public async Task AFailedStep_EndsFailed_AndTheStepsAfterItNeverStart()
    {
        var created = await _user.CreateAsync(new CreateJobRequest { Type = "demo.steps", Input = new { steps = 3, failAtStep = 2 } });
        Assert.Equal(JobState.Failed, (await _user.WaitForCompletionAsync(created.Id)).Status);
        var job = await _user.GetAsync(created.Id);
        Assert.Equal(["completed", "failed"], job.Steps.Select(s => s.Status));
        Assert.Equal(job.CompletedAt, job.Steps[1].EndedAt);
    }

    [Fact]
    public async Task AParallelStep_RecordsEachItemsState()
    {
        var created = await _user.CreateAsync(new CreateJobRequest
        {
            Type = "demo.fanout", Input = new { items = new[] { "a", "b", "c", "d" }, parallelism = 2, delayMs = 100, failItem = 2, finishOthers = true },
        });
        Assert.Equal(JobState.Failed, (await _user.WaitForCompletionAsync(created.Id)).Status);
        var step = Assert.Single((await _user.GetAsync(created.Id)).Steps);
        Assert.Equal(("process", "failed"), (step.Name, step.Status));
        Assert.Equal(new JobStepItems(4, 3, 1, "dfdd"), step.Items);
    }

    [Fact]
    public async Task ACancelledJob_EndsItsRunningStepCancelled()
    {
        var created = await _user.CreateAsync(new CreateJobRequest { Type = "demo.steps", Input = new { steps = 3, delayMs = 20_000 } });
        await Conditions.WaitUntilAsync(async () => (await _user.GetAsync(created.Id)).Steps.Count == 1, "the first step starts");
        await _user.CancelAsync(created.Id);
        Assert.Equal(JobState.Cancelled, (await _user.WaitForCompletionAsync(created.Id)).Status);
        var step = Assert.Single((await _user.GetAsync(created.Id)).Steps);
        Assert.Equal("cancelled", step.Status);
        Assert.NotNull(step.EndedAt);
    }
}
