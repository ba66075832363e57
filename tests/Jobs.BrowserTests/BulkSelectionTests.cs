using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Jobs.Functions.Identity;
using Jobs.Testing;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Jobs.BrowserTests;

/// <summary>
/// Issue 26 in the dashboard's list: rows selected by their boxes (or all on the page) are cancelled with one bulk call,
/// whose job is then shown. Fails on any console error, uncaught script error or failed request of the page.
/// </summary>
[Collection(SecondDashboardCollection.Name)]
public sealed class BulkSelectionTests(DashboardRunnerFixture runner, BrowserFixture browser) : IAsyncLifetime
{
    private readonly string _owner = "ui-bulk-" + Guid.NewGuid().ToString("N")[..8];
    private readonly List<string> _pageErrors = [];
    private IBrowserContext? _context;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_context is not null)
        {
            await _context.CloseAsync();
        }
    }

    [Fact]
    public async Task CancelSelected_CancelsTheCheckedRowsOnly_AndShowsTheBulkJob()
    {
        using var api = runner.Client(_owner);
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            // Long enough to be live when the bulk job runs; a cancel is seen at its next progress report (every second).
            ids.Add((string)(await RunnerFixture.CreateJobAsync(api, new { type = "demo.steps", input = new { steps = 30, delayMs = 4_000 } }))["id"]!);
        }
        _context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ExtraHTTPHeaders = new Dictionary<string, string> { [CallerResolver.PrincipalHeader] = Principals.Header(_owner) },
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
        });
        var page = await _context.NewPageAsync();
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
        await page.GotoAsync(new Uri(runner.BaseAddress, "/api/dashboard#/jobs").ToString());
        var rows = page.Locator("table.jobs tbody tr[data-job-id]");
        await Expect(rows).ToHaveCountAsync(3);
        var cancel = page.GetByRole(AriaRole.Button, new() { Name = "Cancel selected" });
        await Expect(cancel).ToBeDisabledAsync();

        // All on the page, then one taken out again.
        await page.GetByLabel("Select all on this page").CheckAsync();
        await Expect(page.Locator(".bulk-actions")).ToContainTextAsync("3 selected");
        await page.Locator($"tr[data-job-id='{ids[1]}'] input.select-row").UncheckAsync();
        await Expect(page.Locator(".bulk-actions")).ToContainTextAsync("2 selected");
        await Expect(page.GetByLabel("Select all on this page")).Not.ToBeCheckedAsync();
        await cancel.ClickAsync();

        // The bulk job is shown, and it ends having cancelled the two selected jobs.
        await Expect(page).ToHaveURLAsync(new Regex("#/jobs/[0-9a-f]{32}$"));
        var bulkId = Regex.Match(page.Url, "#/jobs/([0-9a-f]{32})$").Groups[1].Value;
        Assert.DoesNotContain(bulkId, ids);
        var bulk = await api.GetFromJsonAsync<JsonObject>($"/api/jobs/{bulkId}");
        Assert.Equal("jobs.bulk", (string?)bulk!["type"]);
        await Expect(page.Locator($"article[data-job-id='{bulkId}'] .status-slot .status")).ToHaveTextAsync("completed", new() { Timeout = 60_000 });
        foreach (var id in new[] { ids[0], ids[2] })
        {
            Assert.Equal("cancelled", (string?)(await RunnerFixture.WaitForEndAsync(api, id, TimeSpan.FromSeconds(60)))["status"]);
        }
        Assert.Contains((string?)(await api.GetFromJsonAsync<JsonObject>($"/api/jobs/{ids[1]}/status"))!["status"], new[] { "pending", "running" });
        Assert.True(_pageErrors.Count == 0, string.Join("\n", _pageErrors));
        using var _ = await api.PostAsync($"/api/jobs/{ids[1]}/cancel", null);
    }
}
