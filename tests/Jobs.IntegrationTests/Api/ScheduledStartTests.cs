using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Jobs.Client;
using Jobs.Testing;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.IntegrationTests.Api;

/// <summary><c>notBefore</c>: a job that waits (on a durable timer) to start, can be cancelled while it waits, and its static metadata.</summary>
[Collection(SecondRunnerCollection.Name)]
public sealed class ScheduledStartTests(RunnerFixture runner)
{
    private readonly HttpClient _user = runner.Client("sched-" + Guid.NewGuid().ToString("N")[..8]);

    // Behaviour goes through Jobs.Client as an application would; the wire-format cases below post raw JSON.
    private JobsClient Client => new(_user);

    private static string Utc(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    [Fact]
    public async Task AScheduledJob_StaysPendingWithNoStart_UntilItsTime_ThenRuns_AndItsDeadlineCountsFromThen()
    {
        var notBefore = DateTimeOffset.UtcNow.AddSeconds(4);
        var created = await Client.CreateAsync(new CreateJobRequest { Type = "demo.steps", Input = new { steps = 2 }, NotBefore = notBefore });
        Assert.Equal(JobState.Pending, created.Status);
        Assert.StartsWith("Scheduled to start at", created.Message, StringComparison.Ordinal);
        Assert.Equal(Utc(notBefore), Utc(created.NotBefore!.Value));
        // The deadline is the type's two hours from the scheduled start, not from now.
        Assert.True(Math.Abs((created.Deadline!.Value - notBefore.AddHours(2)).TotalMilliseconds) < 2, $"deadline {created.Deadline:O}");

        // Once its orchestration has run (and would have started the first step, were it not waiting), the job is still
        // pending with no start. Read as soon as that holds, not after a fixed wait that a slow create could take past
        // its time; that it never started early is the start time checked below.
        var durable = runner.Services.GetRequiredService<DurableTaskClient>();
        await Conditions.WaitUntilAsync(async () => (await durable.GetInstanceAsync(created.Id))?.RuntimeStatus == OrchestrationRuntimeStatus.Running,
            "the job's orchestration is running (waiting on its timer)");
        var waiting = await Client.GetAsync(created.Id);
        Assert.Equal((JobState.Pending, null), (waiting.Status, waiting.StartedAt));

        Assert.Equal(JobState.Completed, (await Client.WaitForCompletionAsync(created.Id)).Status);
        var job = await Client.GetAsync(created.Id);
        Assert.True(job.StartedAt >= notBefore.AddMilliseconds(-1), $"started {job.StartedAt:O} before {Utc(notBefore)}");
    }

    [Fact]
    public async Task AJobCancelledWhileItWaits_EndsCancelled_AndItsOrchestrationStopsWaiting()
    {
        var created = await Client.CreateAsync(new CreateJobRequest { Type = "demo.steps", Input = new { steps = 1 }, NotBefore = DateTimeOffset.UtcNow.AddHours(1) });

        Assert.Equal(JobState.Cancelled, (await Client.CancelAsync(created.Id)).Status); // at once: it had not started
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var instance = await runner.Services.GetRequiredService<DurableTaskClient>().WaitForInstanceCompletionAsync(created.Id, wait.Token);
        Assert.Equal(OrchestrationRuntimeStatus.Terminated, instance.RuntimeStatus);
        var job = await Client.GetAsync(created.Id);
        Assert.Equal((JobState.Cancelled, null), (job.Status, job.StartedAt));
    }

    [Fact]
    public async Task ADraftSubmittedWithATime_WaitsForIt_ThenRuns()
    {
        var draft = await Client.CreateAsync(new CreateJobRequest { Type = "demo.steps", Input = new { steps = 1 }, Draft = true });
        var notBefore = DateTimeOffset.UtcNow.AddSeconds(3);

        var submitted = await Client.SubmitAsync(draft.Id, notBefore);
        Assert.Equal(JobState.Pending, submitted.Status);
        Assert.StartsWith("Scheduled to start at", submitted.Message, StringComparison.Ordinal);

        Assert.Equal(JobState.Completed, (await Client.WaitForCompletionAsync(draft.Id)).Status);
        Assert.True((await Client.GetAsync(draft.Id)).StartedAt >= notBefore.AddMilliseconds(-1));
    }

    [Theory]
    [InlineData("in31days")]
    [InlineData("2026-11-24T1")]
    [InlineData("next tuesday")]
    public async Task ATimeTooFarAheadOrNotATime_Is400NamingNotBefore_OnCreateAndOnSubmit(string value)
    {
        var notBefore = value == "in31days" ? Utc(DateTimeOffset.UtcNow.AddDays(31)) : value;
        using var create = await _user.PostAsJsonAsync("/api/jobs", new { type = "demo.steps", notBefore });
        await AssertNamesNotBeforeAsync(create);

        var draft = await CreateDraftAsync(new { type = "demo.steps", draft = true });
        using var submit = await _user.PostAsJsonAsync($"/api/jobs/{draft["id"]}/submit", new { notBefore });
        await AssertNamesNotBeforeAsync(submit);
        Assert.Equal("draft", (string?)JsonNode.Parse(await _user.GetStringAsync($"/api/jobs/{draft["id"]}"))!["status"]);
    }

    [Fact]
    public async Task ATimeWithAnOffset_IsTheSameInstantInUtc()
    {
        var local = DateTimeOffset.UtcNow.AddHours(3).ToOffset(TimeSpan.FromHours(2));
        var created = await RunnerFixture.CreateJobAsync(_user, new { type = "demo.steps", notBefore = local.ToString("yyyy-MM-ddTHH:mm:ss.fffzzz", CultureInfo.InvariantCulture) });
        var notBefore = created["notBefore"]!.GetValue<DateTimeOffset>();
        Assert.Equal(TimeSpan.Zero, notBefore.Offset);
        Assert.Equal(local.ToUnixTimeMilliseconds(), notBefore.ToUnixTimeMilliseconds());
        using var cancel = await _user.PostAsync($"/api/jobs/{created["id"]}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
    }

    [Fact]
    public async Task EveryJobOfAType_CarriesItsStaticMetadata_FromCreationOn()
    {
        var created = await Client.CreateAsync(new CreateJobRequest { Type = "demo.steps", Input = new { steps = 1 } });
        Assert.Equal("demo", created.Metadata["operation"]);
        Assert.Equal(JobState.Completed, (await Client.WaitForCompletionAsync(created.Id)).Status);
        Assert.Equal("demo", (await Client.GetAsync(created.Id)).Metadata["operation"]);
        Assert.Equal("export_csv", (await Client.GetTypesAsync()).Single(t => t.Type == "jobs.export-csv").StaticMetadata!["operation"]);
    }

    private async Task<JsonNode> CreateDraftAsync(object body)
    {
        using var response = await _user.PostAsJsonAsync("/api/jobs", body);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    private static async Task AssertNamesNotBeforeAsync(HttpResponseMessage response)
    {
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Contains(problem["errors"]!.AsArray(), e => (string?)e!["field"] == "notBefore");
    }
}
