using System.Net;
using System.Text.Json.Nodes;
using Jobs.Testing;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Jobs.BrowserTests;

/// <summary>The schedules page (<c>#/schedules</c>) in Chromium against the runner: create, pause, resume, delete.</summary>
[Collection(SecondDashboardCollection.Name)]
public sealed class SchedulesPageTests(DashboardRunnerFixture runner, BrowserFixture browser) : IAsyncLifetime
{
    private readonly string _owner = "sp-" + Guid.NewGuid().ToString("N")[..8];
    private readonly DashboardSession _session = new(runner, browser);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _session.DisposeAsync();

    [Fact]
    public async Task ABadCron_IsShownNextToItsField_AndStoresNothing_ThenASchedule_IsCreatedPausedResumedAndDeleted()
    {
        using var api = runner.Client(_owner);
        _session.ExpectedFailures.Add("/api/schedules"); // the refused create answers 400 (problem+json)
        var page = await _session.OpenAsync(_owner, "#/schedules");
        await Expect(page.Locator("h1")).ToHaveTextAsync("Schedules");
        await Expect(page.Locator("#s-type option[value='demo.steps']")).ToHaveCountAsync(1);

        await page.Locator("#s-type").SelectOptionAsync("demo.steps");
        await page.Locator("#s-input").FillAsync("""{"steps": 1}""");
        await page.Locator("#s-cron").FillAsync("every night");
        await page.Locator("#s-timeZone").FillAsync("Europe/Paris");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create schedule" }).ClickAsync();
        await Expect(page.Locator("#e-cron")).ToContainTextAsync("cron: ");
        await Expect(page.Locator("#s-cron")).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(page.Locator("#e-timeZone")).ToBeEmptyAsync();
        Assert.Empty(JsonNode.Parse(await api.GetStringAsync("/api/schedules"))!["schedules"]!.AsArray());

        await page.Locator("#s-cron").FillAsync("0 3 * * *");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create schedule" }).ClickAsync();
        var row = page.Locator("tr[data-schedule-id]");
        await Expect(row).ToHaveCountAsync(1);
        var stored = JsonNode.Parse(await api.GetStringAsync("/api/schedules"))!["schedules"]!.AsArray().Single()!;
        var id = (string)stored["id"]!;
        Assert.Equal("0 3 * * *", (string)stored["cron"]!);
        Assert.Equal("Europe/Paris", (string)stored["timeZone"]!);
        await Expect(row).ToHaveAttributeAsync("data-schedule-id", id);
        await Expect(row.Locator(".cron")).ToHaveTextAsync("0 3 * * *");
        await Expect(row.Locator(".zone")).ToHaveTextAsync("Europe/Paris");
        await Expect(row.Locator(".next-runs li")).ToHaveCountAsync(5);
        var first = stored["nextRuns"]![0]!;
        await Expect(row.Locator(".next-runs li").First).ToHaveAttributeAsync("title", (string)first["local"]!);
        await Expect(row.Locator(".schedule-state")).ToHaveTextAsync("active");
        await browser.ScreenshotAsync(page, "dashboard-schedules.png");

        await row.GetByRole(AriaRole.Button, new() { Name = "Pause" }).ClickAsync();
        await Expect(row.Locator(".schedule-state")).ToHaveTextAsync("paused");
        await Expect(row).ToHaveAttributeAsync("data-paused", "true");
        Assert.True((bool)JsonNode.Parse(await api.GetStringAsync($"/api/schedules/{id}"))!["paused"]!);
        await Expect(row.Locator(".next-runs li")).ToHaveCountAsync(0);

        await row.GetByRole(AriaRole.Button, new() { Name = "Resume" }).ClickAsync();
        await Expect(row.Locator(".schedule-state")).ToHaveTextAsync("active");
        Assert.False((bool)JsonNode.Parse(await api.GetStringAsync($"/api/schedules/{id}"))!["paused"]!);

        await row.GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await Expect(row.GetByRole(AriaRole.Button, new() { Name = "Delete for good?" })).ToHaveCountAsync(1);
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync($"/api/schedules/{id}")).StatusCode); // one press only asks
        await row.GetByRole(AriaRole.Button, new() { Name = "Delete for good?" }).ClickAsync();
        await Expect(page.Locator("tr[data-schedule-id]")).ToHaveCountAsync(0);
        await Expect(page.GetByText("No schedules yet.")).ToBeVisibleAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync($"/api/schedules/{id}")).StatusCode);
        _session.AssertNoPageErrors();
    }
}
