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
[Collection(DashboardCollection.Name)]
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

    private async Task<IPage> OpenAsync(string hash)
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
        await page.GotoAsync(new Uri(runner.BaseAddress, "/api/dashboard" + hash).ToString());
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
}
