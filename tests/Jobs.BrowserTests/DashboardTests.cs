using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Jobs.Functions.Dashboard;
using Jobs.Functions.Identity;
using Jobs.Testing;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Jobs.BrowserTests;

/// <summary>
/// The dashboard as a person uses it: Debian's Chromium driven by Playwright (no browser download), against the runner
/// and the real engine, signed in as App Service Authentication would sign a user in. Every test also fails on any
/// console error or uncaught script error of the page.
/// </summary>
[Collection(DashboardCollection.Name)]
public sealed class DashboardTests(DashboardRunnerFixture runner, BrowserFixture browser) : IAsyncLifetime
{
    private readonly string _owner = "ui-" + Guid.NewGuid().ToString("N")[..8];
    private readonly List<string> _pageErrors = [];
    private readonly List<IBrowserContext> _contexts = [];
    private readonly List<string> _expectedFailures = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var context in _contexts)
        {
            await context.CloseAsync();
        }
    }

    private async Task<IPage> OpenAsync(string user, string hash, int width = 1280, ColorScheme colorScheme = ColorScheme.Light, List<string>? requests = null, params string[] roles)
    {
        var context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            // What App Service Authentication adds to every request of a signed-in user, EventSource's included.
            ExtraHTTPHeaders = new Dictionary<string, string> { [CallerResolver.PrincipalHeader] = Principals.Header(user, roles) },
            ViewportSize = new ViewportSize { Width = width, Height = 900 },
            ColorScheme = colorScheme,
        });
        _contexts.Add(context);
        var page = await context.NewPageAsync();
        page.Console += (_, message) =>
        {
            // A failed request is also logged by Chromium as "Failed to load resource"; those are judged by their
            // response below, where the test says which ones it expects (another user's job is a 404).
            if (message.Type == "error" && !message.Text.StartsWith("Failed to load resource", StringComparison.Ordinal))
            {
                _pageErrors.Add($"console: {message.Text}");
            }
        };
        page.Response += (_, response) =>
        {
            if (response.Status >= 400 && !_expectedFailures.Any(f => response.Url.Contains(f, StringComparison.Ordinal)))
            {
                _pageErrors.Add($"{response.Status} from {response.Url}");
            }
        };
        page.PageError += (_, error) => _pageErrors.Add($"page error: {error}");
        page.Request += (_, request) =>
        {
            var path = new Uri(request.Url).AbsolutePath;
            if (requests is not null && path.StartsWith("/api/", StringComparison.Ordinal) && !path.StartsWith("/api/dashboard", StringComparison.Ordinal))
            {
                lock (requests)
                {
                    requests.Add(path);
                }
            }
        };
        await page.GotoAsync(new Uri(runner.BaseAddress, "/api/dashboard" + hash).ToString());
        return page;
    }

    private void AssertNoPageErrors() => Assert.True(_pageErrors.Count == 0, string.Join("\n", _pageErrors));

    private static ILocator JobView(IPage page, string id) => page.Locator($"article[data-job-id='{id}']");

    /// <summary>The value of one row of the job view's Details panel.</summary>
    private static ILocator Fact(ILocator view, string name) => view.Locator("dl.facts").First.Locator($"dt:text-is('{name}') + dd");

    [Fact]
    public async Task ARunningJobsBarMoves_AndItsLogLinesAppearWhileItRuns_UntilItCompletes()
    {
        using var api = runner.Client(_owner);
        var id = (string)(await RunnerFixture.CreateJobAsync(api, new { type = "demo.steps", input = new { steps = 4, delayMs = 1_500 } }))["id"]!;
        var page = await OpenAsync(_owner, $"#/jobs/{id}");
        var view = JobView(page, id);
        var bar = view.Locator(".headline [role=progressbar]");

        var seen = new List<int>();
        var linesWhileRunning = 0;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline && await view.Locator(".status-slot .status").InnerTextAsync() is var status && status != "completed")
        {
            var value = int.Parse((await bar.GetAttributeAsync("aria-valuenow"))!, System.Globalization.CultureInfo.InvariantCulture);
            if (value is > 0 and < 100 && !seen.Contains(value))
            {
                seen.Add(value);
            }
            if (status == "running")
            {
                linesWhileRunning = Math.Max(linesWhileRunning, await view.Locator(".logs li").CountAsync());
            }
            await Task.Delay(150);
        }
        Assert.True(seen.Count >= 3, $"the bar should move through the job, saw {string.Join(", ", seen)}");
        Assert.Equal(seen.Order(), seen);
        Assert.True(linesWhileRunning > 0, "log lines should appear while the job runs");

        await Expect(view.Locator(".status-slot .status")).ToHaveTextAsync("completed");
        await Expect(bar).ToHaveAttributeAsync("aria-valuenow", "100");
        await Expect(view.Locator(".steps li[data-state=done]")).ToHaveCountAsync(4);
        var logged = JsonNode.Parse(await api.GetStringAsync($"/api/jobs/{id}/logs?limit=1000"))!["lines"]!.AsArray();
        await Expect(view.Locator(".logs li")).ToHaveCountAsync(logged.Count);
        await Expect(view.Locator("section", new() { HasText = "Result" }).Locator("pre")).ToContainTextAsync("stepsCompleted");
        await browser.ScreenshotAsync(page, "dashboard-job.png");
        AssertNoPageErrors();
    }

    [Fact]
    public async Task TheList_ShowsTheOwnersJobsOnly_WithTotals_AndARunningRowsBarMoves()
    {
        using var api = runner.Client(_owner);
        var other = "ui-other-" + Guid.NewGuid().ToString("N")[..8];
        using var otherApi = runner.Client(other);
        // Long enough (about 30 s, its bar moving every 375 ms) to be still running when the "completed" filter below is
        // applied: at 6 s it had sometimes ended by then on a busy machine, and the filter then rightly showed it too.
        var mine = (string)(await RunnerFixture.CreateJobAsync(api, new { type = "demo.steps", input = new { steps = 20, delayMs = 1_500 } }))["id"]!;
        var done = (string)(await RunnerFixture.CreateJobAsync(api, new { type = "demo.steps", input = new { steps = 1 } }))["id"]!;
        var theirs = (string)(await RunnerFixture.CreateJobAsync(otherApi, new { type = "demo.steps", input = new { steps = 1 } }))["id"]!;
        await RunnerFixture.WaitForEndAsync(api, done);

        var page = await OpenAsync(_owner, "#/jobs");
        await Expect(page.Locator($"tr[data-job-id='{mine}']")).ToBeVisibleAsync();
        await Expect(page.Locator($"tr[data-job-id='{done}']")).ToBeVisibleAsync();
        await Expect(page.Locator($"tr[data-job-id='{theirs}']")).ToHaveCountAsync(0);
        await Expect(page.Locator(".summary")).ToContainTextAsync("2 job(s)");

        var bar = page.Locator($"tr[data-job-id='{mine}'] [role=progressbar]");
        await Expect(bar).Not.ToHaveAttributeAsync("aria-valuenow", "0", new() { Timeout = 15_000 });
        var first = int.Parse((await bar.GetAttributeAsync("aria-valuenow"))!, System.Globalization.CultureInfo.InvariantCulture);
        await Expect(bar).Not.ToHaveAttributeAsync("aria-valuenow", first.ToString(System.Globalization.CultureInfo.InvariantCulture), new() { Timeout = 15_000 });
        await browser.ScreenshotAsync(page, "dashboard-list.png");

        // Filters: completed only.
        await page.GetByLabel("completed").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        await Expect(page.Locator($"tr[data-job-id='{done}']")).ToBeVisibleAsync();
        await Expect(page.Locator("tbody tr[data-job-id]")).ToHaveCountAsync(1);

        // Another user's job, opened by its address, is not shown (the API answers 404, as for a job that does not exist).
        _expectedFailures.Add($"/api/jobs/{theirs}");
        await page.GotoAsync(new Uri(runner.BaseAddress, $"/api/dashboard#/jobs/{theirs}").ToString());
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Job not found" })).ToBeVisibleAsync();
        await Expect(page.Locator("[data-job-id]")).ToHaveCountAsync(0);
        AssertNoPageErrors();
    }

    [Fact]
    public async Task ThePauseSwitch_HoldsATypesNewJobsQueued_WithTheirPlaceInLine_AndResumeStartsThem()
    {
        var admin = "ui-admin-" + Guid.NewGuid().ToString("N")[..8];
        using var api = runner.Client(admin, "admin");
        var page = await OpenAsync(admin, "#/types", roles: "admin");
        var row = page.Locator("tr[data-type='demo.limited']");
        var toggle = row.GetByRole(AriaRole.Switch);
        await Expect(toggle).Not.ToBeCheckedAsync(new() { Timeout = 15_000 });

        await toggle.ClickAsync();

        // The box is checked as soon as it is clicked; the label says "paused" once the service has answered and the
        // page has read the types again.
        await Expect(row.GetByRole(AriaRole.Switch)).ToBeCheckedAsync(new() { Timeout = 15_000 });
        await Expect(row.Locator("label.check")).ToHaveTextAsync("paused", new() { Timeout = 15_000 });
        var types = JsonNode.Parse(await api.GetStringAsync("/api/job-types"))!["jobTypes"]!.AsArray();
        Assert.True((bool)types.Single(t => (string?)t!["type"] == "demo.limited")!["paused"]!);

        var id = (string)(await RunnerFixture.CreateJobAsync(api, new { type = "demo.limited", input = new { delayMs = 10 } }))["id"]!;
        await page.GotoAsync(new Uri(runner.BaseAddress, $"/api/dashboard#/jobs/{id}").ToString());
        var view = JobView(page, id);
        await Expect(view.Locator(".status-slot .status")).ToHaveTextAsync("queued", new() { Timeout = 15_000 });
        await Expect(view.Locator(".queue-position")).ToHaveTextAsync("#1 in line", new() { Timeout = 15_000 });
        await Expect(view.Locator(".message")).ToContainTextAsync("type paused");
        // Issue 26: the list row shows the same place in line beside its queued badge.
        await page.GotoAsync(new Uri(runner.BaseAddress, "/api/dashboard#/jobs?type=demo.limited&status=queued").ToString());
        await Expect(page.Locator($"tr[data-job-id='{id}'] .status-cell .queue-position")).ToHaveTextAsync("#1 in line", new() { Timeout = 15_000 });

        await page.GotoAsync(new Uri(runner.BaseAddress, "/api/dashboard#/types").ToString());
        await page.Locator("tr[data-type='demo.limited']").GetByRole(AriaRole.Switch).ClickAsync();
        await Expect(page.Locator("tr[data-type='demo.limited']").GetByRole(AriaRole.Switch)).Not.ToBeCheckedAsync(new() { Timeout = 15_000 });
        await Expect(page.Locator("tr[data-type='demo.limited'] label.check")).ToHaveTextAsync("running", new() { Timeout = 15_000 });

        Assert.Equal("completed", (string?)(await RunnerFixture.WaitForEndAsync(api, id, TimeSpan.FromSeconds(60)))["status"]);
        AssertNoPageErrors();
    }

    [Fact]
    public async Task CancelFromThePage_EndsTheJobCancelled()
    {
        using var api = runner.Client(_owner);
        var id = (string)(await RunnerFixture.CreateJobAsync(api, new { type = "demo.steps", input = new { steps = 5, delayMs = 3_000 } }))["id"]!;
        var page = await OpenAsync(_owner, $"#/jobs/{id}");
        var view = JobView(page, id);
        await Expect(view.Locator(".status-slot .status")).ToHaveTextAsync("running", new() { Timeout = 15_000 });

        await view.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();

        await Expect(view.Locator(".status-slot .status")).ToHaveTextAsync("cancelled", new() { Timeout = 30_000 });
        Assert.Equal("cancelled", (string?)JsonNode.Parse(await api.GetStringAsync($"/api/jobs/{id}/status"))!["status"]);
        await Expect(view.GetByRole(AriaRole.Button, new() { Name = "Cancel" })).ToHaveCountAsync(0);
        AssertNoPageErrors();
    }

    [Fact]
    public async Task TheAuditSection_ShowsWhoCreatedTheJob_AndWhoCancelledItFromThePage()
    {
        using var api = runner.Client(_owner);
        var id = (string)(await RunnerFixture.CreateJobAsync(api, new { type = "demo.steps", input = new { steps = 1 }, notBefore = DateTimeOffset.UtcNow.AddDays(1) }))["id"]!;
        var page = await OpenAsync(_owner, $"#/jobs/{id}");
        var view = JobView(page, id);
        var audit = view.GetByRole(AriaRole.List, new() { Name = "Audit" });
        await Expect(audit.Locator("li[data-action='created']")).ToContainTextAsync($"{_owner}@example.test ({_owner}) via aad from 127.0.0.1");

        await view.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();

        await Expect(view.Locator(".status-slot .status")).ToHaveTextAsync("cancelled", new() { Timeout = 30_000 });
        var cancel = audit.Locator("li[data-action='cancel_requested']");
        await Expect(cancel).ToContainTextAsync("cancel requested");
        await Expect(cancel).ToContainTextAsync("effect: cancelled");
        await Expect(audit.Locator("li")).ToHaveCountAsync(2);
        AssertNoPageErrors();
    }

    [Fact]
    public async Task ADraftSubmittedFromThePage_Runs_AndRunAgainMakesANewJobWithTheSameInput()
    {
        using var api = runner.Client(_owner);
        using var created = await api.PostAsJsonAsync("/api/jobs", new { type = "demo.steps", draft = true, input = new { steps = 2 } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (string)JsonNode.Parse(await created.Content.ReadAsStringAsync())!["id"]!;
        var page = await OpenAsync(_owner, $"#/jobs/{id}");
        var view = JobView(page, id);
        await Expect(view.Locator(".status-slot .status")).ToHaveTextAsync("draft");

        await view.GetByRole(AriaRole.Button, new() { Name = "Submit" }).ClickAsync();
        await Expect(view.Locator(".status-slot .status")).ToHaveTextAsync("completed", new() { Timeout = 30_000 });

        await view.GetByRole(AriaRole.Button, new() { Name = "Run again" }).ClickAsync();
        // The job view is a hash route: the URL is polled, not awaited as a navigation (WaitForURL then waits for a "load"
        // that a same-document navigation may never report; a fresh-clone run timed out there once).
        await Expect(page).ToHaveURLAsync(new Regex($"#/jobs/(?!{id})[0-9a-f]{{32}}$"));
        var again = page.Url[(page.Url.LastIndexOf('/') + 1)..];
        var againView = JobView(page, again);
        await Expect(againView.Locator(".status-slot .status")).ToHaveTextAsync("completed", new() { Timeout = 30_000 });
        var job = JsonNode.Parse(await api.GetStringAsync($"/api/jobs/{again}"))!;
        Assert.Equal(2, (int)job["input"]!["steps"]!);
        Assert.Equal(id, (string?)job["rerunOf"]);
        // The rerun links back to its original, and the original to its rerun.
        await againView.GetByRole(AriaRole.Link, new() { Name = id[..8] }).ClickAsync();
        await Expect(JobView(page, id).GetByRole(AriaRole.Link, new() { Name = again[..8] })).ToBeVisibleAsync();
        AssertNoPageErrors();
    }

    [Fact]
    public async Task AFailedJob_ResumedFromThePage_RunsOnlyTheFailedStepAndAfter()
    {
        using var api = runner.Client(_owner);
        using var created = await api.PostAsJsonAsync("/api/jobs", new { type = "demo.steps", input = new { steps = 3, failAtStep = 2, recoverOnRerun = true } });
        var id = (string)JsonNode.Parse(await created.Content.ReadAsStringAsync())!["id"]!;
        var page = await OpenAsync(_owner, $"#/jobs/{id}");
        var view = JobView(page, id);
        await Expect(view.Locator(".status-slot .status")).ToHaveTextAsync("failed", new() { Timeout = 30_000 });

        await view.GetByRole(AriaRole.Button, new() { Name = "Resume from step-2" }).ClickAsync();

        await Expect(page).ToHaveURLAsync(new Regex($"#/jobs/(?!{id})[0-9a-f]{{32}}$"));
        var resumed = page.Url[(page.Url.LastIndexOf('/') + 1)..];
        var resumedView = JobView(page, resumed);
        await Expect(resumedView.Locator(".status-slot .status")).ToHaveTextAsync("completed", new() { Timeout = 30_000 });
        await Expect(resumedView).ToContainTextAsync("step-2 (the steps before it ran in the original)");
        var job = JsonNode.Parse(await api.GetStringAsync($"/api/jobs/{resumed}"))!;
        Assert.Equal((id, "step-2"), ((string?)job["rerunOf"], (string?)job["resumedAt"]!["step"]));
        Assert.Equal(3, (int)job["result"]!["stepsCompleted"]!);
        AssertNoPageErrors();
    }

    [Fact]
    public async Task TheSearchBox_FindsJobsByCorrelationId_AndOpensAJobByItsId()
    {
        using var api = runner.Client(_owner);
        var correlation = "find-" + Guid.NewGuid().ToString("N")[..8];
        var wanted = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            using var created = await api.PostAsJsonAsync("/api/jobs", new { type = "demo.steps", draft = true, correlationId = correlation });
            wanted.Add((string)JsonNode.Parse(await created.Content.ReadAsStringAsync())!["id"]!);
        }
        using var other = await api.PostAsJsonAsync("/api/jobs", new { type = "demo.steps", draft = true, correlationId = correlation + "-other" });
        var page = await OpenAsync(_owner, "#/jobs");

        await page.GetByRole(AriaRole.Searchbox, new() { Name = "Find jobs by id, id prefix, correlation id or tag" }).FillAsync(correlation);
        await page.GetByRole(AriaRole.Button, new() { Name = "Find" }).ClickAsync();

        var rows = page.Locator("table.jobs tbody tr[data-job-id]");
        await Expect(rows).ToHaveCountAsync(2);
        Assert.Equal(wanted.Order(StringComparer.Ordinal), (await rows.EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.jobId)")).Order(StringComparer.Ordinal));

        await page.GetByRole(AriaRole.Searchbox, new() { Name = "Find jobs by id, id prefix, correlation id or tag" }).FillAsync(wanted[1].ToUpperInvariant());
        await page.GetByRole(AriaRole.Button, new() { Name = "Find" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex($"#/jobs/{wanted[1]}$"));
        await Expect(JobView(page, wanted[1]).Locator(".status-slot .status")).ToHaveTextAsync("draft");
        AssertNoPageErrors();
    }

    [Fact]
    public async Task TheNewJobForm_IsBuiltFromTheSchema_ChecksWhatTheApiChecks_AndCreatesTheJob()
    {
        using var api = runner.Client(_owner);
        var page = await OpenAsync(_owner, "#/new?type=demo.steps");
        var steps = page.Locator("input[name=steps]");
        await Expect(steps).ToHaveAttributeAsync("min", "1"); // from [Range(1, 50)] on DemoStepsInput.Steps
        await Expect(steps).ToHaveAttributeAsync("max", "50");
        // A type only the service creates (a bulk action) is not offered; the others are.
        await Expect(page.Locator("#n-type option[value='jobs.bulk']")).ToHaveCountAsync(0);
        await Expect(page.Locator("#n-type option[value='demo.fanout']")).ToHaveCountAsync(1);

        await steps.FillAsync("0");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create" }).ClickAsync();
        await Expect(page.Locator("#e-steps")).ToHaveTextAsync("steps: must be at least 1");
        Assert.Empty(JsonNode.Parse(await api.GetStringAsync("/api/jobs"))!["jobs"]!.AsArray());

        await steps.FillAsync("2");
        await page.Locator("input[name=correlationId]").FillAsync("from-the-form");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("#/jobs/[0-9a-f]{32}$")); // a hash route: polled (see RunAgain above)
        var id = page.Url[(page.Url.LastIndexOf('/') + 1)..];
        await Expect(JobView(page, id).Locator(".status-slot .status")).ToHaveTextAsync("completed", new() { Timeout = 30_000 });
        var job = JsonNode.Parse(await api.GetStringAsync($"/api/jobs/{id}"))!;
        Assert.Equal((2, "from-the-form"), ((int)job["input"]!["steps"]!, (string?)job["correlationId"]));
        AssertNoPageErrors();
    }

    [Fact]
    public async Task HostileJobData_ShowsAsText_AndRunsNoScript()
    {
        // An owner whose name is markup writes it into the log (the cancel request line) and the message.
        var hostileOwner = "<img src=x onerror=window.__pwned=3>";
        const string correlation = "<script>window.__pwned=1</script>";
        const string entityId = "\"><img src=x onerror=\"window.__pwned=2\">";
        using var api = runner.Client(hostileOwner);
        var id = (string)(await RunnerFixture.CreateJobAsync(api, new
        {
            type = "demo.steps", input = new { steps = 3, delayMs = 2_000 }, correlationId = correlation, entity = new { type = "release", id = entityId },
        }))["id"]!;
        await RunnerFixture.PollStatusAsync(api, id, s => (string?)s["status"] == "running");
        (await api.PostAsync($"/api/jobs/{id}/cancel", null)).Dispose();

        var page = await OpenAsync(hostileOwner, $"#/jobs/{id}");
        var view = JobView(page, id);
        await Expect(view.Locator(".status-slot .status")).ToHaveTextAsync("cancelled", new() { Timeout = 30_000 });
        await Expect(view.GetByText(correlation, new() { Exact = true })).ToBeVisibleAsync();
        await Expect(view.GetByText($"release/{entityId}", new() { Exact = true })).ToBeVisibleAsync();
        await Expect(view.Locator(".logs li", new() { HasText = $"Cancellation requested by {hostileOwner}" })).ToHaveCountAsync(1);
        await Expect(page.Locator("main img, main script")).ToHaveCountAsync(0);
        Assert.True(await page.EvaluateAsync<bool>("() => window.__pwned === undefined"));

        await page.GotoAsync(new Uri(runner.BaseAddress, "/api/dashboard#/jobs").ToString());
        await Expect(page.Locator($"tr[data-job-id='{id}']")).ToContainTextAsync(entityId);
        await Expect(page.Locator("main img, main script")).ToHaveCountAsync(0);
        Assert.True(await page.EvaluateAsync<bool>("() => window.__pwned === undefined"));
        AssertNoPageErrors();
    }

    [Fact]
    public async Task AtA360PixelWidth_NothingOverflows_AndAJobCanBeCancelledWithTheKeyboardAlone()
    {
        using var api = runner.Client(_owner);
        var id = (string)(await RunnerFixture.CreateJobAsync(api, new { type = "demo.steps", input = new { steps = 5, delayMs = 3_000 } }))["id"]!;
        var page = await OpenAsync(_owner, "#/jobs", width: 360);
        await Expect(page.Locator($"tr[data-job-id='{id}']")).ToBeVisibleAsync();
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= 360"), "the list overflows 360 px");

        await page.GotoAsync(new Uri(runner.BaseAddress, $"/api/dashboard#/jobs/{id}").ToString());
        var view = JobView(page, id);
        await Expect(view.Locator(".status-slot .status")).ToHaveTextAsync("running", new() { Timeout = 15_000 });
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= 360"), "the job view overflows 360 px");
        for (var i = 0; i < 40 && await page.EvaluateAsync<string>("() => document.activeElement?.textContent ?? ''") != "Cancel"; i++)
        {
            await page.Keyboard.PressAsync("Tab");
        }
        Assert.Equal("Cancel", await page.EvaluateAsync<string>("() => document.activeElement.textContent"));
        // Status events keep coming while the job runs (a progress report every 750 ms here): the focused button must
        // stay the focused button through them, or a keyboard user never gets to press it.
        var progress = view.Locator("[role=progressbar]").First;
        var before = await progress.GetAttributeAsync("aria-valuenow");
        await Expect(progress).Not.ToHaveAttributeAsync("aria-valuenow", before ?? "", new() { Timeout = 15_000 });
        Assert.Equal("Cancel", await page.EvaluateAsync<string>("() => document.activeElement.textContent"));
        await page.Keyboard.PressAsync("Enter");
        await Expect(view.Locator(".status-slot .status")).ToHaveTextAsync("cancelled", new() { Timeout = 30_000 });
        AssertNoPageErrors();
    }

    [Fact]
    public async Task TheDetailsPanel_ChangesLiveFromTheEventStream_WhileTheJobRuns_AndWhenItEnds()
    {
        using var api = runner.Client(_owner);
        // A draft, so the page is open before the job starts: everything after that must come from the event stream.
        using var created = await api.PostAsJsonAsync("/api/jobs", new { type = "demo.steps", draft = true, input = new { steps = 4, delayMs = 2_000 } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (string)JsonNode.Parse(await created.Content.ReadAsStringAsync())!["id"]!;
        var page = await OpenAsync(_owner, $"#/jobs/{id}");
        var view = JobView(page, id);
        await Expect(Fact(view, "Status")).ToHaveTextAsync("draft");
        await Expect(Fact(view, "Started")).ToHaveTextAsync("—");

        (await api.PostAsync($"/api/jobs/{id}/submit", null)).EnsureSuccessStatusCode();

        // While it runs (the second step of four, about 2 s of it): the panel says what the header says.
        await Expect(view.Locator(".steps li:nth-child(2)[data-state=running]")).ToHaveCountAsync(1, new() { Timeout = 30_000 });
        await Expect(Fact(view, "Status")).ToHaveTextAsync("running");
        await Expect(Fact(view, "Step")).ToHaveTextAsync("step-2");
        await Expect(Fact(view, "Step attempts")).ToHaveTextAsync("2");
        await Expect(Fact(view, "Started").Locator("time")).ToHaveCountAsync(1);
        await Expect(Fact(view, "Completed")).ToHaveTextAsync("—");

        await Expect(view.Locator(".status-slot .status")).ToHaveTextAsync("completed", new() { Timeout = 30_000 });
        var job = JsonNode.Parse(await api.GetStringAsync($"/api/jobs/{id}"))!;
        await Expect(Fact(view, "Status")).ToHaveTextAsync("completed");
        await Expect(Fact(view, "Progress")).ToHaveTextAsync("100%");
        await Expect(Fact(view, "Step attempts")).ToHaveTextAsync(((int)job["totalAttempts"]!).ToString(System.Globalization.CultureInfo.InvariantCulture));
        var completedAt = DateTimeOffset.Parse((string)job["completedAt"]!, System.Globalization.CultureInfo.InvariantCulture);
        var shown = DateTimeOffset.Parse((await Fact(view, "Completed").Locator("time").GetAttributeAsync("datetime"))!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(completedAt.ToUnixTimeMilliseconds(), shown.ToUnixTimeMilliseconds());
        AssertNoPageErrors();
    }

    [Fact]
    public async Task AFailedJob_ShowsItsBarInTheFailureColour_AndItsErrorAndStackAboveTheInput()
    {
        using var api = runner.Client(_owner);
        var id = (string)(await RunnerFixture.CreateJobAsync(api, new { type = "demo.steps", input = new { steps = 2, failAtStep = 1 } }))["id"]!;
        await RunnerFixture.WaitForEndAsync(api, id);
        var page = await OpenAsync(_owner, $"#/jobs/{id}");
        var view = JobView(page, id);
        await Expect(view.Locator(".status-slot .status")).ToHaveTextAsync("failed");

        // Both read in one evaluation: the live view may re-render its headline between two calls, and an element it
        // replaced has no computed style.
        var colours = await page.EvaluateAsync<string[]>("""
            id => {
              const v = document.querySelector(`article[data-job-id='${id}']`);
              return [getComputedStyle(v.querySelector('.status-slot .status')).color,
                      getComputedStyle(v.querySelector('.headline [role=progressbar] .bar')).backgroundColor];
            }
            """, id);
        Assert.NotEqual("", colours[0]);
        Assert.Equal(colours[0], colours[1]);

        var error = view.Locator("section.error-box");
        await Expect(error).ToContainTextAsync("failed because failAtStep is 1");
        await Expect(error.Locator("pre.stack")).ToBeVisibleAsync();
        await Expect(view.Locator("section", new() { Has = page.GetByRole(AriaRole.Heading, new() { Name = "Input", Exact = true }) })).ToBeVisibleAsync();
        // Measured in one evaluation: the live view rebuilds its Details (the Input section among them) as events arrive,
        // and a section it replaced between two calls has no box.
        var tops = await page.EvaluateAsync<double[]>("""
            id => {
              const v = document.querySelector(`article[data-job-id='${id}']`);
              const input = [...v.querySelectorAll('section')].find(s => s.querySelector('h2')?.textContent === 'Input');
              return [v.querySelector('section.error-box').getBoundingClientRect().top, input.getBoundingClientRect().top];
            }
            """, id);
        Assert.True(tops[0] < tops[1], $"the error ({tops[0]}) should come before the input ({tops[1]})");
        AssertNoPageErrors();
    }

    [Fact]
    public async Task PerPage_ShowsTheLimitThePageWasListedWith()
    {
        using var api = runner.Client(_owner);
        for (var i = 0; i < 25; i++)
        {
            using var created = await api.PostAsJsonAsync("/api/jobs", new { type = "demo.steps", draft = true, input = new { steps = 1 } });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        var page = await OpenAsync(_owner, "#/jobs");
        await Expect(page.Locator("tbody tr[data-job-id]")).ToHaveCountAsync(25);
        await Expect(page.GetByLabel("Per page")).ToHaveValueAsync("50");

        await page.GetByLabel("Per page").SelectOptionAsync("20");
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        await Expect(page.Locator("tbody tr[data-job-id]")).ToHaveCountAsync(20);
        await Expect(page.GetByLabel("Per page")).ToHaveValueAsync("20");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Next" })).ToBeEnabledAsync();
        AssertNoPageErrors();
    }

    [Fact]
    public async Task Times_AreRelative_WithTheExactTimeOnHover_InTheHeadlineTheDetailsAndTheList()
    {
        using var api = runner.Client(_owner);
        var notBefore = DateTimeOffset.UtcNow.AddMinutes(10);
        var id = (string)(await RunnerFixture.CreateJobAsync(api, new { type = "demo.steps", input = new { steps = 1 }, notBefore }))["id"]!;
        try
        {
            var page = await OpenAsync(_owner, $"#/jobs/{id}");
            var view = JobView(page, id);
            var message = view.Locator(".message");
            await Expect(message).ToContainTextAsync("Scheduled to start in ");
            await Expect(message).Not.ToHaveTextAsync(new Regex(@"\d{4}-\d{2}-\d{2}T\d{2}:"));
            await Expect(message.Locator("time")).ToHaveTextAsync(new Regex("^in (9|10) min$"));
            await Expect(message.Locator("time")).ToHaveAttributeAsync("title", new Regex(@"\d{1,2}:\d{2}:\d{2}"));
            await Expect(Fact(view, "Not before").Locator("time")).ToHaveTextAsync(new Regex("^in (9|10) min$"));
            await Expect(Fact(view, "Created").Locator("time")).ToHaveTextAsync(new Regex("^(just now|1 min ago)$"));

            await page.GotoAsync(new Uri(runner.BaseAddress, "/api/dashboard#/jobs").ToString());
            var created = page.Locator($"tr[data-job-id='{id}'] td[data-label=Created] time");
            await Expect(created).ToHaveTextAsync(new Regex("^(just now|1 min ago)$"));
            await Expect(created).ToHaveAttributeAsync("title", new Regex(@"\d{1,2}:\d{2}:\d{2}"));
            AssertNoPageErrors();
        }
        finally
        {
            (await api.PostAsync($"/api/jobs/{id}/cancel", null)).Dispose();
        }
    }

    [Theory]
    [InlineData(ColorScheme.Dark)]
    [InlineData(ColorScheme.Light)]
    public async Task TheColours_FollowTheSystemSetting_AndEveryStatusReadsAtFourAndAHalfToOne(ColorScheme scheme)
    {
        using var api = runner.Client(_owner);
        using (var draft = await api.PostAsJsonAsync("/api/jobs", new { type = "demo.steps", draft = true, input = new { steps = 1 } }))
        {
            Assert.Equal(HttpStatusCode.Created, draft.StatusCode);
            var cancelled = (string)JsonNode.Parse(await draft.Content.ReadAsStringAsync())!["id"]!;
            (await api.PostAsync($"/api/jobs/{cancelled}/cancel", null)).EnsureSuccessStatusCode();
        }
        (await api.PostAsJsonAsync("/api/jobs", new { type = "demo.steps", draft = true, input = new { steps = 1 } })).Dispose();
        var completed = (string)(await RunnerFixture.CreateJobAsync(api, new { type = "demo.steps", input = new { steps = 1 } }))["id"]!;
        var failed = (string)(await RunnerFixture.CreateJobAsync(api, new { type = "demo.steps", input = new { steps = 1, failAtStep = 1 } }))["id"]!;
        var running = (string)(await RunnerFixture.CreateJobAsync(api, new { type = "demo.steps", input = new { steps = 5, delayMs = 2_000 } }))["id"]!;
        await RunnerFixture.WaitForEndAsync(api, completed);
        await RunnerFixture.WaitForEndAsync(api, failed);

        var page = await OpenAsync(_owner, "#/jobs", colorScheme: scheme);
        await Expect(page.Locator("tbody .status")).ToHaveCountAsync(5);
        foreach (var status in new[] { "draft", "cancelled", "completed", "failed" })
        {
            await Expect(page.Locator($"tbody .status-{status}")).ToHaveCountAsync(1);
        }
        const string contrast = """
            () => {
              const rgb = c => c.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number);
              const lum = c => { const [r, g, b] = rgb(c).map(v => v / 255).map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
              const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
              const page = getComputedStyle(document.body.parentElement).backgroundColor;
              const text = getComputedStyle(document.querySelector('main')).color;
              return {
                page: lum(page),
                text: ratio(text, page),
                statuses: [...document.querySelectorAll('tbody .status')].map(e => ({ name: e.textContent, ratio: ratio(getComputedStyle(e).color, getComputedStyle(e).backgroundColor) })),
              };
            }
            """;
        var seen = await page.EvaluateAsync<System.Text.Json.JsonElement>(contrast);
        var luminance = seen.GetProperty("page").GetDouble();
        Assert.True(scheme == ColorScheme.Dark ? luminance < 0.05 : luminance > 0.8, $"page luminance {luminance} in {scheme}");
        Assert.True(seen.GetProperty("text").GetDouble() >= 4.5, $"text contrast {seen.GetProperty("text")}");
        Assert.Equal(5, seen.GetProperty("statuses").GetArrayLength());
        foreach (var status in seen.GetProperty("statuses").EnumerateArray())
        {
            var ratio = status.GetProperty("ratio").GetDouble();
            Assert.True(ratio >= 4.5, $"{status.GetProperty("name")} reads at {ratio}:1 in {scheme}");
        }
        (await api.PostAsync($"/api/jobs/{running}/cancel", null)).Dispose();
        AssertNoPageErrors();
    }

    [Fact]
    public async Task TheOverview_ShowsCountsByStatus_AndDrawsItsChartsFromTheRunsDataPoints_WithAFixedNumberOfRequests()
    {
        using var api = runner.Client(_owner);
        var ids = new List<string>();
        foreach (var body in new object[]
        {
            new { type = "demo.steps", input = new { steps = 1 } },
            new { type = "demo.steps", input = new { steps = 2, delayMs = 300 } },
            new { type = "demo.steps", input = new { steps = 1, failAtStep = 1 } },
            new { type = "demo.fanout", input = new { items = new[] { "a", "b" } } },
        })
        {
            ids.Add((string)(await RunnerFixture.CreateJobAsync(api, body))["id"]!);
        }
        foreach (var id in ids)
        {
            await RunnerFixture.WaitForEndAsync(api, id);
        }
        // This runner runs no timers: run the aggregator (what every reconciler run does) until the roll-ups hold the run.
        var counters = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Jobs.Functions.Storage.JobCounters>(runner.Services);
        JsonNode metrics = null!;
        await Conditions.WaitUntilAsync(async () =>
        {
            await counters.FoldAsync(CancellationToken.None);
            metrics = JsonNode.Parse(await api.GetStringAsync("/api/metrics?interval=minute"))!;
            return metrics["series"]!.AsArray().Sum(t => (long)t!["totals"]!["created"]!) == 4
                && metrics["series"]!.AsArray().Sum(t => (long)t!["totals"]!["failed"]! + (long)t["totals"]!["completed"]!) == 4;
        }, "the run is rolled up");
        // The known run's points, per minute: created, completed, failed; and the failure rate of its endings.
        var points = metrics["series"]!.AsArray().SelectMany(t => t!["points"]!.AsArray()).GroupBy(p => (string)p!["at"]!)
            .Select(g => (At: DateTimeOffset.Parse(g.Key, System.Globalization.CultureInfo.InvariantCulture),
                Created: g.Sum(p => (long)p!["created"]!), Completed: g.Sum(p => (long)p!["completed"]!), Failed: g.Sum(p => (long)p!["failed"]! + (long)p!["timedOut"]!)))
            .OrderBy(p => p.At).ToList();
        var expectedThroughput = points.Select(p => $"{p.At.UtcDateTime:yyyy-MM-ddTHH:mm}|{p.Created}|{p.Completed}|{p.Failed}").ToList();
        var expectedRates = points.Where(p => p.Completed + p.Failed > 0)
            .Select(p => $"{p.At.UtcDateTime:yyyy-MM-ddTHH:mm}|{Math.Round(1000.0 * p.Failed / (p.Completed + p.Failed)) / 10}").ToList();

        var apiRequests = new List<string>();
        var page = await OpenAsync(_owner, "#/", requests: apiRequests);
        await Expect(page.Locator("h1")).ToHaveTextAsync("Overview");
        await Expect(page.Locator("li[data-status='completed'] .count")).ToHaveTextAsync("3");
        await Expect(page.Locator("li[data-status='failed'] .count")).ToHaveTextAsync("1");
        await Expect(page.Locator("li[data-status='running'] .count")).ToHaveTextAsync("0");
        await Expect(page.Locator("#throughput .uplot canvas")).ToHaveCountAsync(1);
        await Expect(page.Locator("#failure-rate .uplot canvas")).ToHaveCountAsync(1);
        Assert.True(await page.Locator("#throughput canvas").EvaluateAsync<bool>("c => c.width > 0 && c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some(v => v !== 0)"),
            "the throughput chart drew nothing");

        async Task<List<string>> RowsAsync(string chart) => [.. (await page.Locator($"#{chart} table.chart-data tbody tr").EvaluateAllAsync<string[]>(
            "rows => rows.map(r => [r.dataset.at.slice(0, 16), ...[...r.querySelectorAll('td')].map(td => td.textContent)].join('|'))"))];
        Assert.Equal(expectedThroughput, await RowsAsync("throughput"));
        Assert.Equal(expectedRates, await RowsAsync("failure-rate"));
        var steps = page.Locator("#durations tr[data-type='demo.steps'] td");
        await Expect(steps.First).ToHaveTextAsync("3"); // three demo.steps jobs ended
        await Expect(page.Locator("#durations tr[data-type='demo.fanout'] td").First).ToHaveTextAsync("1");
        // The first load is one counts read and one metrics read per range, however many jobs there are.
        Assert.Equal(["/api/jobs/stats", "/api/metrics", "/api/metrics", "/api/metrics"], apiRequests.Order(StringComparer.Ordinal));
        await browser.ScreenshotAsync(page, "dashboard-overview.png");

        // The week, per hour: the same run in its hour(s).
        await page.GetByRole(AriaRole.Button, new() { Name = "Last week" }).ClickAsync();
        await Expect(page.Locator("#durations h2")).ToContainTextAsync("last week");
        var byHour = points.GroupBy(p => p.At.UtcDateTime.ToString("yyyy-MM-ddTHH", System.Globalization.CultureInfo.InvariantCulture))
            .Select(g => $"{g.Key}:00|{g.Sum(p => p.Created)}|{g.Sum(p => p.Completed)}|{g.Sum(p => p.Failed)}").ToList();
        Assert.Equal(byHour, await RowsAsync("throughput"));
        AssertNoPageErrors();
    }

    [Fact]
    public async Task ThePageAndItsAssets_AreServedFromTheApp_UnderAPolicyWithoutInlineScript()
    {
        using var http = runner.Client(_owner);
        using var page = await http.GetAsync("/api/dashboard");
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var policy = string.Join(";", page.Headers.GetValues("Content-Security-Policy"));
        Assert.Equal(DashboardFunction.ContentSecurityPolicy, policy);
        Assert.DoesNotContain("unsafe-inline", policy, StringComparison.Ordinal);
        Assert.Contains("script-src 'self'", policy, StringComparison.Ordinal);
        var html = await page.Content.ReadAsStringAsync();
        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal); // no inline script at all
        Assert.DoesNotContain("http", html.Replace("http-equiv", "", StringComparison.Ordinal), StringComparison.Ordinal); // nothing from elsewhere

        using var script = await http.GetAsync("/api/dashboard/app.js");
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        Assert.Equal("nosniff", string.Join("", script.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/api/dashboard/secrets.json")).StatusCode);
        // The function key the page was opened with reaches its assets (escaped), as every route is function-level.
        // uPlot is served from the app too: the copy embedded is the pinned npm package's file (package-lock.json).
        using var chart = await http.GetAsync("/api/dashboard/uplot.js");
        Assert.Equal("text/javascript", chart.Content.Headers.ContentType?.MediaType);
        var pinned = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "package-lock.json")))!["packages"]!["node_modules/uplot"]!["version"]!.ToString();
        var served = await chart.Content.ReadAsStringAsync();
        Assert.StartsWith($"/*! https://github.com/leeoniya/uPlot (v{pinned}) */", served, StringComparison.Ordinal);
        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "node_modules", "uplot", "dist", "uPlot.iife.min.js")), served);
        var keyed = await http.GetStringAsync("/api/dashboard?code=a%22b%3Cc");
        Assert.Contains("dashboard/app.js?code=a%22b%3Cc\"", keyed, StringComparison.Ordinal);
    }
}

/// <summary>One Chromium for the collection: Debian's, at <c>/usr/bin/chromium</c> (<c>JOBS_CHROMIUM</c> overrides), installed by scripts/test.sh.</summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var path = Environment.GetEnvironmentVariable("JOBS_CHROMIUM") ?? "/usr/bin/chromium";
        Assert.True(File.Exists(path), $"No Chromium at {path}: scripts/test.sh installs Debian's (apt-get install -y chromium).");
        // Playwright's expectations wait 5 s by default, sized for a developer's machine. Here up to four browsers and
        // their runners start at once on two cores (one of them kept busy in the fresh-clone runs), and a first page of a
        // fresh runner can take longer than that: an expectation waits up to 15 s — a bound on a wait, not a speed target.
        Assertions.SetDefaultExpectTimeout(15_000);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = path, Headless = true, Args = ["--no-sandbox"] });
    }

    /// <summary>Saves a screenshot under TestResults/screenshots (the README's come from there).</summary>
    public async Task ScreenshotAsync(IPage page, string name)
    {
        var folder = Path.Combine(RepoPaths.Root, "TestResults", "screenshots");
        Directory.CreateDirectory(folder);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, name), FullPage = true });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }
        _playwright?.Dispose();
    }
}

public sealed class DashboardRunnerFixture : RunnerFixture;

[CollectionDefinition(Name)]
public sealed class DashboardCollection : ICollectionFixture<DashboardRunnerFixture>, ICollectionFixture<BrowserFixture>
{
    public const string Name = "dashboard";
}

/// <summary>
/// The same runner and browser, a second pair (xunit makes the fixtures per collection): the job view, search, schedules,
/// decisions, bulk selection and artifact pages run beside <see cref="DashboardTests"/> instead of after them (one
/// collection for all took 71 s, nearly the whole project).
/// </summary>
[CollectionDefinition(Name)]
public sealed class SecondDashboardCollection : ICollectionFixture<DashboardRunnerFixture>, ICollectionFixture<BrowserFixture>
{
    public const string Name = "dashboard-2";
}
