using Jobs.Functions.Identity;
using Jobs.Testing;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Jobs.BrowserTests;

/// <summary>The job view's Artifacts section: a download link per artifact of the job.</summary>
[Collection(SecondDashboardCollection.Name)]
public sealed class ArtifactLinksTests(DashboardRunnerFixture runner, BrowserFixture browser)
{
    [Fact]
    public async Task AnExportsJobView_LinksItsCsv_AndTheLinkDownloadsIt()
    {
        var owner = "ui-art-" + Guid.NewGuid().ToString("N")[..8];
        using var api = runner.Client(owner);
        var id = (string)(await RunnerFixture.CreateJobAsync(api, new { type = "jobs.export-csv" }))["id"]!;
        Assert.Equal("completed", (string?)(await RunnerFixture.WaitForEndAsync(api, id))["status"]);

        await using var context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ExtraHTTPHeaders = new Dictionary<string, string> { [CallerResolver.PrincipalHeader] = Principals.Header(owner) },
            AcceptDownloads = true,
        });
        var errors = new List<string>();
        var page = await context.NewPageAsync();
        page.PageError += (_, error) => errors.Add(error);
        await page.GotoAsync(new Uri(runner.BaseAddress, $"/api/dashboard#/jobs/{id}").ToString());

        var link = page.Locator($"article[data-job-id='{id}']").GetByRole(AriaRole.List, new() { Name = "Artifacts" }).GetByRole(AriaRole.Link, new() { Name = "jobs.csv" });
        await Expect(link).ToBeVisibleAsync(new() { Timeout = 30_000 });
        // Clicking starts a download named after the artifact (the route answers Content-Disposition: attachment).
        var download = await page.RunAndWaitForDownloadAsync(() => link.ClickAsync());
        Assert.Equal("jobs.csv", download.SuggestedFilename);
        // The link's address, fetched as the signed-in page would, is the CSV.
        var href = await link.GetAttributeAsync("href");
        var response = await context.APIRequest.GetAsync(href!);
        Assert.Equal(200, response.Status);
        Assert.StartsWith("id,type,status,", await response.TextAsync(), StringComparison.Ordinal);
        Assert.Empty(errors);
    }
}
