using System.Net;
using Jobs.Client;
using Jobs.IntegrationTests.Api;
using Jobs.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.IntegrationTests.Client;

/// <summary>Jobs.Client against the runner: typed calls, paging, the event stream, problems as exceptions, retries.</summary>
[Collection(EventStreamRunnerCollection.Name)]
public sealed class JobsClientTests(EventStreamRunnerFixture runner)
{
    private readonly string _owner = "cl-" + Guid.NewGuid().ToString("N")[..8];

    private JobsClient Client() => new(runner.Client(_owner));

    [Fact]
    public async Task CreateWaitAndRead_ThroughTheTypedClient()
    {
        var client = Client();
        var job = await client.CreateAsync(new CreateJobRequest { Type = "demo.steps", Input = new { steps = 2 }, CorrelationId = "typed" });
        Assert.Equal((JobState.Pending, "typed"), (job.Status, job.CorrelationId));

        var end = await client.WaitForCompletionAsync(job.Id);

        Assert.Equal((JobState.Completed, 100), (end.Status, end.Progress));
        var result = await client.GetResultAsync(job.Id);
        Assert.Equal(2, result.Result!.Value.GetProperty("stepsCompleted").GetInt32());
        var logs = await client.GetLogsAsync(job.Id);
        Assert.Contains(logs.Lines, l => l.Message.StartsWith("Job completed", StringComparison.Ordinal));
        Assert.Contains(await client.GetTypesAsync(), t => t.Type == "demo.steps" && t.Steps.Count == 5);
        Assert.Equal(1, (await client.GetStatsAsync()).ByStatus["completed"]);
    }

    [Fact]
    public async Task Schedules_CreateReadListPauseResumeDelete_ThroughTheTypedClient()
    {
        var client = Client();
        var schedule = await client.CreateScheduleAsync(new CreateScheduleRequest
        {
            Type = "demo.steps",
            Input = System.Text.Json.JsonSerializer.SerializeToElement(new { steps = 1 }),
            Cron = "0 9 * * 1-5",
            TimeZone = "America/New_York",
            CatchUp = ScheduleCatchUp.All,
            CatchUpLimit = 3,
        });
        Assert.Equal((ScheduleOverlap.Skip, ScheduleCatchUp.All, 3, 5), (schedule.Overlap, schedule.CatchUp, schedule.CatchUpLimit, schedule.NextRuns.Count));
        Assert.All(schedule.NextRuns, t => Assert.Equal(t.At.UtcDateTime.Hour, DateTimeOffset.Parse(t.Local, System.Globalization.CultureInfo.InvariantCulture).UtcDateTime.Hour));

        var read = await client.GetScheduleAsync(schedule.Id);
        Assert.Equal([], read.RecentRuns!);
        Assert.Contains(await client.ListSchedulesAsync().ToListAsync(), s => s.Id == schedule.Id);
        Assert.True((await client.PauseScheduleAsync(schedule.Id)).Paused);
        Assert.Empty((await client.GetScheduleAsync(schedule.Id)).NextRuns);
        Assert.False((await client.ResumeScheduleAsync(schedule.Id)).Paused);
        var changed = await client.UpdateScheduleAsync(schedule.Id, new SchedulePatch { Overlap = ScheduleOverlap.Allow });
        Assert.Equal(ScheduleOverlap.Allow, changed.Overlap);

        var invalid = await Assert.ThrowsAsync<JobValidationException>(() => client.UpdateScheduleAsync(schedule.Id, new SchedulePatch { Cron = "0 9 * *" }));
        Assert.Contains(invalid.Errors, e => e.Field == "cron");
        await client.DeleteScheduleAsync(schedule.Id);
        await Assert.ThrowsAsync<JobNotFoundException>(() => client.GetScheduleAsync(schedule.Id));
    }

    [Fact]
    public async Task GetAuditAsync_ReadsWhoDidWhat_PageByPage()
    {
        var client = Client();
        var job = await client.CreateAsync(new CreateJobRequest { Type = "demo.steps", Input = new { steps = 1 }, NotBefore = DateTimeOffset.UtcNow.AddDays(1) });
        await client.CancelAsync(job.Id);

        var first = await client.GetAuditAsync(job.Id, limit: 1);
        var second = await client.GetAuditAsync(job.Id, first.Next, limit: 1);

        var created = Assert.Single(first.Entries);
        Assert.Equal(("created", "user", _owner, "aad", true), (created.Action, created.Actor.Kind, created.Actor.Id, created.Actor.IdentityProvider, first.HasMore));
        var cancel = Assert.Single(second.Entries);
        Assert.Equal(("cancel_requested", _owner, "cancelled", false), (cancel.Action, cancel.Actor.Id, cancel.Details["effect"], second.HasMore));
        Assert.True(cancel.At >= created.At);
    }

    [Fact]
    public async Task RerunAsync_ResumesAFailedJob_AndTheOriginalPointsToIt()
    {
        var client = Client();
        var failed = await client.CreateAsync(new CreateJobRequest { Type = "demo.steps", Input = new { steps = 3, failAtStep = 3, recoverOnRerun = true } });
        Assert.Equal(JobState.Failed, (await client.WaitForCompletionAsync(failed.Id)).Status);

        var rerun = await client.RerunAsync(failed.Id, new RerunOptions { FromFailedStep = true, IdempotencyKey = "resume-" + failed.Id });

        Assert.Equal((failed.Id, "step-3", 2), (rerun.RerunOf, rerun.ResumedAt?.Step, rerun.ResumedAt?.StepIndex));
        Assert.Equal(JobState.Completed, (await client.WaitForCompletionAsync(rerun.Id)).Status);
        Assert.Equal(3, (await client.GetResultAsync(rerun.Id)).Result!.Value.GetProperty("stepsCompleted").GetInt32());
        Assert.Equal(rerun.Id, (await client.GetAsync(failed.Id)).RerunBy);
        Assert.Equal(rerun.Id, (await client.RerunAsync(failed.Id, new RerunOptions { FromFailedStep = true, IdempotencyKey = "resume-" + failed.Id })).Id);
        var problem = await Assert.ThrowsAsync<JobConflictException>(() => client.RerunAsync(rerun.Id, new RerunOptions { FromFailedStep = true }));
        Assert.Equal(HttpStatusCode.Conflict, problem.Status);
    }

    [Fact]
    public async Task BulkAsync_DeletesTheEndedJobsItNames_AndReportsTheLiveOneSkipped()
    {
        var client = Client();
        var ended = await client.CreateAsync(new CreateJobRequest { Type = "demo.steps", Input = new { steps = 1 } });
        await client.WaitForCompletionAsync(ended.Id);
        // Its orchestration ends just after its record; a delete before that skips it as "still finishing".
        await Conditions.WaitUntilAsync(async () =>
        {
            using var response = await client.Http.GetAsync($"api/jobs/{ended.Id}/instance");
            return (string?)System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())?["runtimeStatus"] == "Completed";
        }, "the ended job's orchestration to complete");
        var live = await client.CreateAsync(new CreateJobRequest { Type = "demo.steps", Input = new { steps = 1, delayMs = 600_000 } });

        var bulk = await client.BulkAsync(new BulkRequest { Action = "delete", Ids = [ended.Id, live.Id] });

        Assert.Equal(("jobs.bulk", JobState.Completed), (bulk.Type, (await client.WaitForCompletionAsync(bulk.Id)).Status));
        var result = (await client.GetResultAsync(bulk.Id)).Result!.Value;
        Assert.Equal((2, 1, 1), (result.GetProperty("matched").GetInt32(), result.GetProperty("done").GetProperty("deleted").GetInt32(),
            result.GetProperty("skipped").GetProperty("not ended").GetInt32()));
        await Assert.ThrowsAsync<JobNotFoundException>(() => client.GetAsync(ended.Id));
        await client.CancelAsync(live.Id);
    }

    [Fact]
    public async Task WatchAsync_ResumesAcrossTheServersCloses_EveryLineOnce()
    {
        // Streams here end every 3 s: a 6-second job takes the client across reconnects, which it resumes by itself.
        var client = Client();
        var job = await client.CreateAsync(new CreateJobRequest { Type = "demo.steps", Input = new { steps = 4, delayMs = 1_500 } });
        var events = new List<JobEvent>();
        await foreach (var e in client.WatchAsync(job.Id))
        {
            events.Add(e);
        }
        Assert.True(events[^1].IsEnd);
        Assert.Equal(JobState.Completed, events[^1].Status!.Status);
        var logged = await client.GetLogsAsync(job.Id, limit: 1000);
        Assert.Equal(logged.Lines.Select(l => l.Cursor), events.Where(e => e.Line is not null).Select(e => e.Line!.Cursor));
    }

    [Fact]
    public async Task ListAsync_FollowsNext_ThroughEveryPage()
    {
        var client = Client();
        var created = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            created.Add((await client.CreateAsync(new CreateJobRequest { Type = "demo.steps", Draft = true })).Id);
        }
        var listed = new List<string>();
        await foreach (var job in client.ListAsync(new JobQuery { Statuses = [JobState.Draft], PageSize = 2 }))
        {
            listed.Add(job.Id);
        }
        Assert.Equal(created.Order(), listed.Order());
        var page = await client.ListPageAsync(new JobQuery { PageSize = 2 });
        Assert.Equal((5L, 3L), (page.Pagination.Total, page.Pagination.TotalPages));
    }

    [Fact]
    public async Task ListAsync_ByCorrelationId_ReturnsOnlyThoseJobs()
    {
        var client = Client();
        var tagged = (await client.CreateAsync(new CreateJobRequest { Type = "demo.steps", Draft = true, CorrelationId = "client-corr-1" })).Id;
        await client.CreateAsync(new CreateJobRequest { Type = "demo.steps", Draft = true, CorrelationId = "client-corr-2" });

        var listed = new List<string>();
        await foreach (var job in client.ListAsync(new JobQuery { CorrelationId = "client-corr-1" }))
        {
            listed.Add(job.Id);
        }

        Assert.Equal([tagged], listed);
    }

    [Fact]
    public async Task Problems_AreTypedExceptions_NamingTheField()
    {
        var client = Client();
        var invalid = await Assert.ThrowsAsync<JobValidationException>(() => client.CreateAsync(new CreateJobRequest { Type = "demo.steps", Input = new { steps = 0 } }));
        Assert.Contains(invalid.Errors, e => e.Field == "input.steps");
        await Assert.ThrowsAsync<JobNotFoundException>(() => client.GetAsync(Guid.NewGuid().ToString("N")));
        var running = await client.CreateAsync(new CreateJobRequest { Type = "demo.steps", Input = new { steps = 2, delayMs = 2_000 } });
        await Assert.ThrowsAsync<JobConflictException>(() => client.GetResultAsync(running.Id));
        var cancelled = await client.CancelAsync(running.Id);
        Assert.True(cancelled.CancelRequested || cancelled.Status == JobState.Cancelled);
        Assert.Equal(JobState.Cancelled, (await client.WaitForCompletionAsync(running.Id)).Status);
    }

    [Fact]
    public async Task TheRegisteredClient_RetriesATransientFailure_AndTheCreateIsStillOneJob()
    {
        // The first create reaches the service, but its answer is lost (a 503 instead): the standard resilience
        // pipeline retries, with the same idempotency key, and the service hands back the job it made.
        var services = new ServiceCollection();
        var flaky = new LoseFirstAnswerHandler();
        services.AddJobsClient(o => o.BaseAddress = runner.BaseAddress)
            .ConfigurePrimaryHttpMessageHandler(() => flaky)
            .ConfigureHttpClient(http => http.DefaultRequestHeaders.Add("x-ms-client-principal", Principals.Header(_owner)));
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<JobsClient>();

        var job = await client.CreateAsync(new CreateJobRequest { Type = "demo.steps", Input = new { steps = 1 } });

        Assert.Equal(2, flaky.Posts);
        var mine = new List<JobSummary>();
        await foreach (var j in client.ListAsync())
        {
            mine.Add(j);
        }
        Assert.Equal(job.Id, Assert.Single(mine).Id);
    }

    private sealed class LoseFirstAnswerHandler() : DelegatingHandler(new SocketsHttpHandler())
    {
        public int Posts;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (request.Method == HttpMethod.Post && Interlocked.Increment(ref Posts) == 1)
            {
                response.Dispose();
                return new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) { RequestMessage = request };
            }
            return response;
        }
    }
}
