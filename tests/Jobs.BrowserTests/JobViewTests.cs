using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Jobs.Testing;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Jobs.BrowserTests;

/// <summary>
/// The job view (issue 28 item 4) in Chromium against the runner: every field live from the event stream, the step
/// timeline as the record keeps it, a parallel step's items, and the log's follow switch. Values the live view
/// re-renders together are read in one evaluation.
/// </summary>
[Collection(SecondDashboardCollection.Name)]
public sealed class JobViewTests(DashboardRunnerFixture runner, BrowserFixture browser) : IAsyncLifetime
{
    private readonly string _owner = "jv-" + Guid.NewGuid().ToString("N")[..8];
    private readonly DashboardSession _session = new(runner, browser);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _session.DisposeAsync();

    /// <summary>The header's status, the Details rows and the running step of the timeline, in one read.</summary>
    private const string ReadView = """
        () => {
          const view = document.querySelector('article.job');
          if (!view || !view.isConnected) return null;
          const fact = name => { const dt = [...view.querySelector('dl.facts').querySelectorAll('dt')].find(d => d.textContent === name); return dt ? dt.nextElementSibling.textContent : null; };
          const running = view.querySelector('.steps li[data-state=running] .step-name');
          return {
            header: (view.querySelector('.status-slot .status') || {}).textContent || '',
            status: fact('Status'), started: fact('Started'), step: fact('Step'), attempts: fact('Step attempts'), completed: fact('Completed'),
            runningStep: running ? running.textContent : '',
          };
        }
        """;

    [Fact]
    public async Task Details_ChangeLiveWithTheEventStream_AgreeWithTheHeader_AndNeedNoRecordReadPerStep()
    {
        using var api = runner.Client(_owner);
        var id = (string)(await RunnerFixture.CreateJobAsync(api, new { type = "demo.steps", input = new { steps = 5, delayMs = 1_000 } }))["id"]!;
        var page = await _session.OpenAsync(_owner, $"#/jobs/{id}");

        var stepsSeen = new List<string>();
        await Conditions.WaitUntilAsync(async () =>
        {
            var seen = await page.EvaluateAsync<JsonElement?>(ReadView);
            if (seen is not { ValueKind: JsonValueKind.Object } view)
            {
                return false;
            }
            var header = view.GetProperty("header").GetString();
            Assert.Equal(header, view.GetProperty("status").GetString());
            if (header == "running")
            {
                Assert.NotEqual("—", view.GetProperty("started").GetString());
                var step = view.GetProperty("step").GetString()!;
                Assert.Equal(view.GetProperty("runningStep").GetString(), step);
                if (!stepsSeen.Contains(step))
                {
                    stepsSeen.Add(step);
                }
            }
            return header == "completed";
        }, "the job completes on the page");

        Assert.True(stepsSeen.Count >= 3, $"the Details panel's step should move with the job, saw {string.Join(", ", stepsSeen)}");
        var record = JsonNode.Parse(await api.GetStringAsync($"/api/jobs/{id}"))!;
        var final = await page.EvaluateAsync<JsonElement>(ReadView);
        Assert.Equal(((int)record["totalAttempts"]!).ToString(CultureInfo.InvariantCulture), final.GetProperty("attempts").GetString());
        Assert.NotEqual("—", final.GetProperty("completed").GetString());
        // The record is read at the start, on a status change and at the end — not once per step.
        int reads;
        lock (_session.Requests)
        {
            reads = _session.Requests.Count(r => r == $"GET /api/jobs/{id}");
        }
        Assert.InRange(reads, 1, 4);
        _session.AssertNoPageErrors();
    }

    [Fact]
    public async Task TheTimeline_ShowsEachStepsStartDurationAndAttempts_AsTheRecordHoldsThem()
    {
        using var api = runner.Client(_owner);
        // flaky: every step's first attempt fails and its retry succeeds, so each step took two attempts.
        var id = (string)(await RunnerFixture.CreateJobAsync(api, new { type = "demo.steps", input = new { steps = 3, delayMs = 200, flaky = true } }))["id"]!;
        await RunnerFixture.WaitForEndAsync(api, id);
        var record = JsonNode.Parse(await api.GetStringAsync($"/api/jobs/{id}"))!;
        var runs = record["steps"]!.AsArray();
        Assert.Equal(3, runs.Count);
        var expected = runs.Select(r =>
        {
            var started = DateTimeOffset.Parse((string)r!["startedAt"]!, CultureInfo.InvariantCulture);
            var ended = DateTimeOffset.Parse((string)r["endedAt"]!, CultureInfo.InvariantCulture);
            return $"{(int)r["index"]!}|done|{started.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fff}Z|{ended.ToUnixTimeMilliseconds() - started.ToUnixTimeMilliseconds()}|{(int)r["attempts"]!}";
        }).ToList();
        Assert.All(runs, r => Assert.Equal(2, (int)r!["attempts"]!));

        var page = await _session.OpenAsync(_owner, $"#/jobs/{id}");
        var steps = page.Locator($"article[data-job-id='{id}'] .steps li");
        await Expect(page.Locator($"article[data-job-id='{id}'] .steps li[data-state=done]")).ToHaveCountAsync(3);
        var shown = await steps.EvaluateAllAsync<string[]>("""
            rows => rows.map(r => [r.dataset.index, r.dataset.state, r.querySelector('.step-start time').getAttribute('datetime'),
              r.querySelector('.step-duration').dataset.durationMs, r.querySelector('.step-attempts').dataset.attempts].join('|'))
            """);
        Assert.Equal(expected, shown);
        var texts = await page.Locator(".steps .step-duration").AllTextContentsAsync();
        Assert.All(texts, t => Assert.Matches(@"^\d+(\.\d)? m?s$|^\d+ min \d+ s$", t));
        var titles = await page.Locator(".steps .step-start time").EvaluateAllAsync<string[]>("times => times.map(t => t.title)");
        Assert.Equal(3, titles.Length);
        Assert.All(titles, t => Assert.Matches(@"\d{1,2}:\d{2}:\d{2}", t)); // the exact time on hover
        _session.AssertNoPageErrors();
    }

    [Fact]
    public async Task AFailedJob_ShowsItsErrorFirst_AndItsTimelineStopsAtTheFailedStep()
    {
        using var api = runner.Client(_owner);
        var id = (string)(await RunnerFixture.CreateJobAsync(api, new { type = "demo.steps", input = new { steps = 3, failAtStep = 2 } }))["id"]!;
        await RunnerFixture.WaitForEndAsync(api, id);
        var runs = JsonNode.Parse(await api.GetStringAsync($"/api/jobs/{id}"))!["steps"]!.AsArray();
        Assert.Equal(["completed", "failed"], runs.Select(r => (string)r!["status"]!));

        var page = await _session.OpenAsync(_owner, $"#/jobs/{id}");
        await Expect(page.Locator(".status-slot .status")).ToHaveTextAsync("failed");
        var seen = await page.EvaluateAsync<JsonElement>("""
            () => {
              const view = document.querySelector('article.job');
              const error = view.querySelector('.failure .error-box');
              const steps = view.querySelector('.steps');
              return {
                states: [...steps.querySelectorAll('li')].map(li => li.dataset.state).join(','),
                attempts: [...steps.querySelectorAll('.step-attempts')].map(a => a.dataset.attempts).join(','),
                errorFirst: !!error && !!(error.compareDocumentPosition(steps) & Node.DOCUMENT_POSITION_FOLLOWING),
                bar: view.querySelector('.headline .progress').dataset.status,
              };
            }
            """);
        Assert.Equal("done,stopped,pending", seen.GetProperty("states").GetString());
        Assert.Equal(string.Join(',', runs.Select(r => (int)r!["attempts"]!)), seen.GetProperty("attempts").GetString());
        Assert.True(seen.GetProperty("errorFirst").GetBoolean(), "the error should come before the steps");
        Assert.Equal("failed", seen.GetProperty("bar").GetString());
        _session.AssertNoPageErrors();
    }

    [Fact]
    public async Task AParallelStepsItems_AreAGridOfTheirStates_LiveWhileItRuns_AndAsTheyEnded()
    {
        using var api = runner.Client(_owner);
        var id = (string)(await RunnerFixture.CreateJobAsync(api, new
        {
            type = "demo.fanout",
            input = new { items = new[] { "a", "b", "c", "d", "e" }, parallelism = 2, delayMs = 1_500, failItem = 3, finishOthers = true },
        }))["id"]!;
        var page = await _session.OpenAsync(_owner, $"#/jobs/{id}");
        var grid = page.Locator($"article[data-job-id='{id}'] .steps li[data-index='0'] .item-grid li");

        // While it runs: some items done, others not yet.
        var mixed = false;
        await Conditions.WaitUntilAsync(async () =>
        {
            var states = await grid.EvaluateAllAsync<string[]>("cells => cells.map(c => c.dataset.state)");
            mixed |= states.Length == 5 && states.Contains("done") && states.Any(s => s is "waiting" or "running");
            return mixed || await page.Locator(".status-slot .status").InnerTextAsync() is "failed" or "completed";
        }, "the grid shows items done while others are not");
        Assert.True(mixed, "the grid should show done and unfinished items while the step runs");

        await Expect(page.Locator(".status-slot .status")).ToHaveTextAsync("failed", new() { Timeout = 30_000 });
        await Expect(grid.Nth(2)).ToHaveAttributeAsync("data-state", "failed");
        Assert.Equal(["done", "done", "failed", "done", "done"], await grid.EvaluateAllAsync<string[]>("cells => cells.map(c => c.dataset.state)"));
        await Expect(grid.Nth(2)).ToHaveAttributeAsync("title", "Item 3: failed");
        await Expect(page.Locator(".steps li[data-index='0'] .items-summary")).ToHaveTextAsync("4 of 5 items done, 1 failed");
        var items = JsonNode.Parse(await api.GetStringAsync($"/api/jobs/{id}"))!["steps"]![0]!["items"]!;
        Assert.Equal("ddfdd", (string)items["states"]!);
        await browser.ScreenshotAsync(page, "dashboard-job-timeline.png");
        _session.AssertNoPageErrors();
    }

    [Fact]
    public async Task AFailFastParallelStep_ShowsNoItemAsRunning_OnceTheJobFailed()
    {
        using var api = runner.Client(_owner);
        var id = (string)(await RunnerFixture.CreateJobAsync(api, new
        {
            type = "demo.fanout", input = new { items = new[] { "a", "b", "c", "d" }, parallelism = 2, delayMs = 300, failItem = 3 },
        }))["id"]!;
        await RunnerFixture.WaitForEndAsync(api, id);
        var page = await _session.OpenAsync(_owner, $"#/jobs/{id}");
        await Expect(page.Locator(".status-slot .status")).ToHaveTextAsync("failed");
        var grid = page.Locator($"article[data-job-id='{id}'] .steps li[data-index='0'] .item-grid li");
        await Expect(grid).ToHaveCountAsync(4);
        var states = await grid.EvaluateAllAsync<string[]>("cells => cells.map(c => c.dataset.state)");
        Assert.DoesNotContain("running", states);
        Assert.DoesNotContain("waiting", states);
        Assert.Contains("not finished", states); // item 3 failed after the last progress write: the job ended first
        _session.AssertNoPageErrors();
    }

    [Fact]
    public async Task TheLog_FollowsNewLines_PausesOnRequest_AndResumesAtTheNewest()
    {
        using var api = runner.Client(_owner);
        var id = (string)(await RunnerFixture.CreateJobAsync(api, new { type = "demo.steps", input = new { steps = 40, delayMs = 400 } }))["id"]!;
        try
        {
            var page = await _session.OpenAsync(_owner, $"#/jobs/{id}");
            const string position = """
                () => { const l = document.querySelector('.logs'); if (!l) return { lines: 0, top: 0, overflow: false, atBottom: true }; return { lines: l.children.length, top: l.scrollTop, overflow: l.scrollHeight > l.clientHeight, atBottom: l.scrollHeight - l.scrollTop - l.clientHeight < 4 }; }
                """;
            JsonElement now = default;
            await Conditions.WaitUntilAsync(async () => (now = await page.EvaluateAsync<JsonElement>(position)).GetProperty("overflow").GetBoolean(), "the log overflows its box");
            Assert.True(now.GetProperty("atBottom").GetBoolean(), "following, the newest line is in view");

            var follow = page.Locator(".log-head button.follow");
            await follow.ClickAsync();
            await Expect(follow).ToHaveAttributeAsync("aria-pressed", "false");
            var paused = await page.EvaluateAsync<JsonElement>(position);
            await Conditions.WaitUntilAsync(async () =>
                (now = await page.EvaluateAsync<JsonElement>(position)).GetProperty("lines").GetInt32() >= paused.GetProperty("lines").GetInt32() + 3,
                "more lines arrive while paused");
            Assert.Equal(paused.GetProperty("top").GetDouble(), now.GetProperty("top").GetDouble());
            Assert.False(now.GetProperty("atBottom").GetBoolean(), "paused, the log stays where it was");

            await follow.ClickAsync();
            await Expect(follow).ToHaveAttributeAsync("aria-pressed", "true");
            Assert.True((await page.EvaluateAsync<JsonElement>(position)).GetProperty("atBottom").GetBoolean(), "following again, the newest line is in view");
            _session.AssertNoPageErrors();
        }
        finally
        {
            (await api.PostAsync($"/api/jobs/{id}/cancel", null)).Dispose();
        }
    }
}
