using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Jobs.Functions.Identity;
using Jobs.Testing;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Jobs.BrowserTests;

/// <summary>
/// Issue 28's tags and search in the dashboard (Chromium, the runner, the real engine): a tag chip lists the jobs with
/// that tag; the search box finds jobs by correlation id, by id prefix and by tag. Every test also fails on any console
/// error, uncaught script error or failed request of the page.
/// </summary>
[Collection(SecondDashboardCollection.Name)]
public sealed class TagsAndSearchTests(DashboardRunnerFixture runner, BrowserFixture browser) : IAsyncLifetime
{
    private readonly string _owner = "ui-tags-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _run = Guid.NewGuid().ToString("N")[..8];
    private readonly List<string> _pageErrors = [];
    private readonly List<IBrowserContext> _contexts = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var context in _contexts)
        {
            await context.CloseAsync();
        }
    }

    private async Task<IPage> OpenAsync(string hash, string query = "")
    {
        var context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ExtraHTTPHeaders = new Dictionary<string, string> { [CallerResolver.PrincipalHeader] = Principals.Header(_owner) },
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
        });
        _contexts.Add(context);
        var page = await context.NewPageAsync();
        page.Console += (_, message) =>
        {
            if (message.Type == "error" && !message.Text.StartsWith("Failed to load resource", StringComparison.Ordinal))
            {
                _pageErrors.Add($"console: {message.Text}");
            }
        };
        page.Response += (_, response) =>
        {
            if (response.Status >= 400)
            {
                _pageErrors.Add($"{response.Status} from {response.Url}");
            }
        };
        page.PageError += (_, error) => _pageErrors.Add($"page error: {error}");
        await page.GotoAsync(new Uri(runner.BaseAddress, "/api/dashboard" + query + hash).ToString());
        return page;
    }

    private void AssertNoPageErrors() => Assert.True(_pageErrors.Count == 0, string.Join("\n", _pageErrors));

    private async Task<string> DraftAsync(HttpClient api, object body)
    {
        using var created = await api.PostAsJsonAsync("/api/jobs", body);
        var text = await created.Content.ReadAsStringAsync();
        Assert.True(created.IsSuccessStatusCode, text);
        return (string)JsonNode.Parse(text)!["id"]!;
    }

    private static ILocator Rows(IPage page) => page.Locator("table.jobs tbody tr[data-job-id]");

    private static async Task<string[]> RowIdsAsync(IPage page) =>
        [.. (await Rows(page).EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.jobId)")).Order(StringComparer.Ordinal)];

    [Fact]
    public async Task ATagChip_InTheListAndTheJobView_ListsTheJobsWithThatTag()
    {
        using var api = runner.Client(_owner);
        var (nightly, eu) = ($"nightly-{_run}", $"region:eu-{_run}");
        var both = await DraftAsync(api, new { type = "demo.steps", draft = true, tags = new[] { nightly, eu } });
        var onlyNightly = await DraftAsync(api, new { type = "demo.steps", draft = true, tags = new[] { nightly } });
        await DraftAsync(api, new { type = "demo.steps", draft = true, tags = new[] { eu } });
        await DraftAsync(api, new { type = "demo.steps", draft = true });
        var page = await OpenAsync("#/jobs");
        await Expect(Rows(page)).ToHaveCountAsync(4);

        await page.Locator($"tr[data-job-id='{both}'] a.chip[data-tag='{nightly}']").ClickAsync();

        await Expect(page).ToHaveURLAsync(new Regex($"#/jobs\\?tag={Regex.Escape(Uri.EscapeDataString(nightly))}$"));
        await Expect(Rows(page)).ToHaveCountAsync(2);
        Assert.Equal(new[] { both, onlyNightly }.Order(StringComparer.Ordinal), await RowIdsAsync(page));
        await Expect(page.Locator("input[name=tag]")).ToHaveValueAsync(nightly);

        // The job view's chips filter the list too.
        await page.GotoAsync(new Uri(runner.BaseAddress, $"/api/dashboard#/jobs/{both}").ToString());
        await page.Locator($"article[data-job-id='{both}'] a.chip[data-tag='{eu}']").ClickAsync();
        await Expect(Rows(page)).ToHaveCountAsync(2);
        Assert.DoesNotContain(onlyNightly, await RowIdsAsync(page));
        AssertNoPageErrors();
    }

    [Fact]
    public async Task TheSearchBox_FindsJobsByCorrelationId_ByIdPrefix_AndByTag()
    {
        using var api = runner.Client(_owner);
        var correlation = $"order-{_run}";
        var byCorrelation = new[]
        {
            await DraftAsync(api, new { type = "demo.steps", draft = true, correlationId = correlation }),
            await DraftAsync(api, new { type = "demo.steps", draft = true, correlationId = correlation }),
        };
        var tagged = await DraftAsync(api, new { type = "demo.steps", draft = true, correlationId = correlation + "-x", tags = new[] { $"batch-{_run}" } });
        var page = await OpenAsync("#/jobs");
        var box = page.GetByRole(AriaRole.Searchbox, new() { Name = "Find jobs by id, id prefix, correlation id or tag" });

        await box.FillAsync(correlation);
        await page.GetByRole(AriaRole.Button, new() { Name = "Find" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("#/search\\?q="));
        await Expect(Rows(page)).ToHaveCountAsync(2);
        Assert.Equal(byCorrelation.Order(StringComparer.Ordinal), await RowIdsAsync(page));
        await Expect(Rows(page).First.Locator("td[data-label=Matched]")).ToHaveTextAsync("correlation id");

        await box.FillAsync(tagged[..10]);
        await page.GetByRole(AriaRole.Button, new() { Name = "Find" }).ClickAsync();
        await Expect(page.Locator($"tr[data-job-id='{tagged}'] td[data-label=Matched]")).ToContainTextAsync("id prefix");

        await box.FillAsync($"batch-{_run}");
        await page.GetByRole(AriaRole.Button, new() { Name = "Find" }).ClickAsync();
        await Expect(Rows(page)).ToHaveCountAsync(1);
        await Expect(page.Locator($"tr[data-job-id='{tagged}'] td[data-label=Matched]")).ToHaveTextAsync("tag");
        AssertNoPageErrors();
    }

    [Fact]
    public async Task AJobCreatedWhileTheListIsOpen_IsAnnouncedAsNew_AndShownWithItsCorrelationId_WhenAsked()
    {
        using var api = runner.Client(_owner);
        var first = await DraftAsync(api, new { type = "demo.steps", draft = true, correlationId = $"first-{_run}" });
        // The first page is asked again every 300 ms here instead of every 10 s.
        var page = await OpenAsync("#/jobs", "?newJobsPollMs=300");
        await Expect(Rows(page)).ToHaveCountAsync(1);
        await Expect(page.Locator(".new-jobs button")).ToHaveCountAsync(0);

        var second = await DraftAsync(api, new { type = "demo.steps", draft = true, correlationId = $"second-{_run}" });
        var third = await DraftAsync(api, new { type = "demo.steps", draft = true, correlationId = $"third-{_run}" });

        var prompt = page.Locator(".new-jobs button");
        await Expect(prompt).ToHaveTextAsync("2 new jobs — show");
        Assert.Equal([first], await RowIdsAsync(page)); // nothing moves until asked
        await prompt.ClickAsync();
        await Expect(Rows(page)).ToHaveCountAsync(3);
        await Expect(page.Locator($"tr[data-job-id='{third}'] td[data-label='Correlation id']")).ToHaveTextAsync($"third-{_run}");
        await Expect(prompt).ToHaveCountAsync(0);
        Assert.Equal(new[] { first, second, third }.Order(StringComparer.Ordinal), await RowIdsAsync(page));
        AssertNoPageErrors();
    }

    [Fact]
    public async Task TheCreatedDateRange_NarrowsTheList_ToJobsCreatedInIt()
    {
        using var api = runner.Client(_owner);
        var ids = new[]
        {
            await DraftAsync(api, new { type = "demo.steps", draft = true }),
            await DraftAsync(api, new { type = "demo.steps", draft = true }),
        };
        var page = await OpenAsync("#/jobs");
        await Expect(Rows(page)).ToHaveCountAsync(2);

        // A range in the past: nothing of this owner's was created in it.
        await page.Locator("input[name=createdFrom]").FillAsync("2020-01-01T00:00");
        await page.Locator("input[name=createdTo]").FillAsync("2020-12-31T00:00");
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("createdFrom=2020-.*createdTo=2020-"));
        await Expect(page.Locator("table.jobs tbody")).ToHaveTextAsync("No jobs match.");
        await Expect(page.Locator("input[name=createdTo]")).ToHaveValueAsync("2020-12-31T00:00"); // kept, in local time

        // From a day ago, with no end: both.
        await page.Locator("input[name=createdTo]").FillAsync("");
        var dayAgo = await page.EvaluateAsync<string>("() => { const d = new Date(Date.now() - 86400000); return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16); }");
        await page.Locator("input[name=createdFrom]").FillAsync(dayAgo);
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        await Expect(Rows(page)).ToHaveCountAsync(2);
        Assert.Equal(ids.Order(StringComparer.Ordinal), await RowIdsAsync(page));
        AssertNoPageErrors();
    }
}
