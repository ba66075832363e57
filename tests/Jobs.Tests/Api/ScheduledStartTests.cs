using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Jobs.Tests.Infrastructure;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Tests.Api;

/// <summary><c>notBefore</c>: a job that waits (on a durable timer) to start, can be cancelled while it waits, and its static metadata.</summary>
[Collection(RunnerCollection.Name)]
public sealed class ScheduledStartTests(RunnerFixture runner)
{
    private readonly HttpClient _user = runner.Client("sched-" + Guid.NewGuid().ToString("N")[..8]);

    private static string Utc(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    [Fact]
    public async Task AScheduledJob_StaysPendingWithNoStart_UntilItsTime_ThenRuns_AndItsDeadlineCountsFromThen()
    {
        var notBefore = DateTimeOffset.UtcNow.AddSeconds(4);
        var created = await RunnerFixture.CreateJobAsync(_user, new { type = "demo.steps", input = new { steps = 2 }, notBefore = Utc(notBefore) });
        var id = (string)created["id"]!;
        Assert.Equal("pending", (string?)created["status"]);
        Assert.StartsWith("Scheduled to start at", (string?)created["message"], StringComparison.Ordinal);
        Assert.Equal(Utc(notBefore), Utc(created["notBefore"]!.GetValue<DateTimeOffset>()));
        // The deadline is the type's two hours from the scheduled start, not from now.
        var deadline = created["deadline"]!.GetValue<DateTimeOffset>();
        Assert.True(Math.Abs((deadline - notBefore.AddHours(2)).TotalMilliseconds) < 2, $"deadline {deadline:O}");

        await Task.Delay(TimeSpan.FromSeconds(2));
        var waiting = JsonNode.Parse(await _user.GetStringAsync($"/api/jobs/{id}"))!;
        Assert.Equal("pending", (string?)waiting["status"]);
        Assert.Null(waiting["startedAt"]);

        var end = await RunnerFixture.WaitForEndAsync(_user, id, TimeSpan.FromSeconds(60));
        Assert.Equal("completed", (string?)end["status"]);
        var job = JsonNode.Parse(await _user.GetStringAsync($"/api/jobs/{id}"))!;
        Assert.True(job["startedAt"]!.GetValue<DateTimeOffset>() >= notBefore.AddMilliseconds(-1), $"started {job["startedAt"]} before {Utc(notBefore)}");
    }

    [Fact]
    public async Task AJobCancelledWhileItWaits_EndsCancelled_AndItsOrchestrationStopsWaiting()
    {
        var created = await RunnerFixture.CreateJobAsync(_user, new { type = "demo.steps", input = new { steps = 1 }, notBefore = Utc(DateTimeOffset.UtcNow.AddHours(1)) });
        var id = (string)created["id"]!;

        using var cancel = await _user.PostAsync($"/api/jobs/{id}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var instance = await runner.Services.GetRequiredService<DurableTaskClient>().WaitForInstanceCompletionAsync(id, wait.Token);
        Assert.Equal(OrchestrationRuntimeStatus.Terminated, instance.RuntimeStatus);
        var job = JsonNode.Parse(await _user.GetStringAsync($"/api/jobs/{id}"))!;
        Assert.Equal("cancelled", (string?)job["status"]);
        Assert.Null(job["startedAt"]);
    }

    [Fact]
    public async Task ADraftSubmittedWithATime_WaitsForIt_ThenRuns()
    {
        var draft = await CreateDraftAsync(new { type = "demo.steps", input = new { steps = 1 }, draft = true });
        var id = (string)draft["id"]!;
        var notBefore = DateTimeOffset.UtcNow.AddSeconds(3);

        using var submit = await _user.PostAsJsonAsync($"/api/jobs/{id}/submit", new { notBefore = Utc(notBefore) });
        Assert.Equal(HttpStatusCode.Accepted, submit.StatusCode);
        var submitted = JsonNode.Parse(await submit.Content.ReadAsStringAsync())!;
        Assert.Equal("pending", (string?)submitted["status"]);
        Assert.StartsWith("Scheduled to start at", (string?)submitted["message"], StringComparison.Ordinal);

        var end = await RunnerFixture.WaitForEndAsync(_user, id, TimeSpan.FromSeconds(60));
        Assert.Equal("completed", (string?)end["status"]);
        var job = JsonNode.Parse(await _user.GetStringAsync($"/api/jobs/{id}"))!;
        Assert.True(job["startedAt"]!.GetValue<DateTimeOffset>() >= notBefore.AddMilliseconds(-1));
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
        var created = await RunnerFixture.CreateJobAsync(_user, new { type = "demo.steps", input = new { steps = 1 } });
        Assert.Equal("demo", (string?)created["metadata"]!["operation"]);
        var end = await RunnerFixture.WaitForEndAsync(_user, (string)created["id"]!);
        Assert.Equal("completed", (string?)end["status"]);
        Assert.Equal("demo", (string?)JsonNode.Parse(await _user.GetStringAsync($"/api/jobs/{created["id"]}"))!["metadata"]!["operation"]);
        var types = JsonNode.Parse(await _user.GetStringAsync("/api/job-types"))!["jobTypes"]!.AsArray();
        Assert.Equal("export_csv", (string?)types.Single(t => (string?)t!["type"] == "jobs.export-csv")!["staticMetadata"]!["operation"]);
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
