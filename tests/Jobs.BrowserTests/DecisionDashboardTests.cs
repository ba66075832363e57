using System.Text.Json.Nodes;
using Jobs.Functions.Identity;
using Jobs.Testing;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Jobs.BrowserTests;

/// <summary>
/// A job waiting for a person in the dashboard (issue 31): its view shows the question with Approve, Reject and a
/// comment box, and an answer given there runs the job on and is in its audit trail. Fails on any page error.
/// </summary>
[Collection(SecondDashboardCollection.Name)]
public sealed class DecisionDashboardTests(DashboardRunnerFixture runner, BrowserFixture browser) : IAsyncLifetime
{
    private readonly string _owner = "ui-dec-" + Guid.NewGuid().ToString("N")[..8];
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

    private async Task<IPage> OpenAsync(string hash)
    {
        _context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ExtraHTTPHeaders = new Dictionary<string, string> { [CallerResolver.PrincipalHeader] = Principals.Header(_owner) },
        });
        var page = await _context.NewPageAsync();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                _pageErrors.Add($"console: {message.Text}");
            }
        };
        page.PageError += (_, error) => _pageErrors.Add($"page error: {error}");
        await page.GotoAsync(new Uri(runner.BaseAddress, "/api/dashboard" + hash).ToString());
        return page;
    }

    [Fact]
    public async Task AWaitingJob_ShowsItsQuestionWithApproveAndReject_AndApprovingWithACommentRunsItOn()
    {
        using var api = runner.Client(_owner);
        var id = (string)(await RunnerFixture.CreateJobAsync(api, new { type = "demo.approval", input = new { question = "Deploy 3.1 to production?" } }))["id"]!;
        var page = await OpenAsync($"#/jobs/{id}");
        var view = page.Locator($"article[data-job-id='{id}']");

        await Expect(view.Locator(".status-slot .status")).ToHaveTextAsync("waiting", new() { Timeout = 30_000 });
        var decision = view.Locator("section.decision[data-decision='deploy']");
        await Expect(decision.Locator(".question")).ToHaveTextAsync("Deploy 3.1 to production?", new() { Timeout = 15_000 });
        await Expect(decision.GetByRole(AriaRole.Button, new() { Name = "Reject" })).ToBeVisibleAsync();
        await Expect(decision).ToContainTextAsync("role approver");

        await decision.GetByRole(AriaRole.Textbox, new() { Name = "Comment" }).FillAsync("looks good");
        await decision.GetByRole(AriaRole.Button, new() { Name = "Approve" }).ClickAsync();

        await Expect(view.Locator(".status-slot .status")).ToHaveTextAsync("completed", new() { Timeout = 30_000 });
        await Expect(view.Locator(".decision-answer")).ToContainTextAsync("approved by", new() { Timeout = 15_000 });
        await Expect(view.Locator(".decision-answer")).ToContainTextAsync("looks good");
        var audit = JsonNode.Parse(await api.GetStringAsync($"/api/jobs/{id}/audit"))!["entries"]!.AsArray();
        var entry = Assert.Single(audit, e => (string?)e!["action"] == "decided")!;
        Assert.Equal(("approve", "looks good", _owner), ((string?)entry["details"]!["decision"], (string?)entry["details"]!["comment"], (string?)entry["actor"]!["id"]));
        Assert.True(_pageErrors.Count == 0, string.Join("\n", _pageErrors));
    }
}
