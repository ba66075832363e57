using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Jobs.Functions.Storage;
using Jobs.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Jobs.BrowserTests;

/// <summary>
/// The dashboard's list when the server answers short pages with a <c>next</c> (a listing stops after
/// <see cref="StorageOptions.ListContinuationBudget"/> continuations; <see cref="ShortTablePages"/> makes Azurite answer
/// a row at a time, as Azure does when a filter scans): it shows the rows it got and keeps Next, which walks to the end.
/// </summary>
[Collection(ShortPagesDashboardCollection.Name)]
public sealed class ShortPagesDashboardTests(ShortPagesDashboardRunnerFixture runner, BrowserFixture browser) : IAsyncLifetime
{
    private readonly string _owner = "ui-short-" + Guid.NewGuid().ToString("N")[..8];
    private DashboardSession _session = null!;

    public Task InitializeAsync()
    {
        _session = new DashboardSession(runner, browser);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        runner.ShortPages.Enabled = false;
        await _session.DisposeAsync();
    }

    [Fact]
    public async Task AShortPageWithANext_ShowsItsRows_AndNextWalksToTheEnd()
    {
        using var api = runner.Client(_owner);
        for (var i = 0; i < 10; i++)
        {
            using var created = await api.PostAsJsonAsync("/api/jobs", new { type = "demo.steps", draft = true, input = new { steps = 1 } });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        await Conditions.WaitUntilAsync(async () => JsonNode.Parse(await api.GetStringAsync("/api/jobs?limit=50"))!["jobs"]!.AsArray().Count == 10,
            "the ten drafts are listed");
        runner.ShortPages.Enabled = true; // one row a response: a page gets 1 + 3 continuations' rows

        var page = await _session.OpenAsync(_owner, "#/jobs");
        var rows = page.Locator("tbody tr[data-job-id]");
        var next = page.GetByRole(AriaRole.Button, new() { Name = "Next" });
        await Expect(rows).ToHaveCountAsync(1 + ShortPagesDashboardRunnerFixture.Budget);
        await Expect(next).ToBeEnabledAsync();
        var seen = new List<string>(await IdsAsync(rows));
        await next.ClickAsync();
        await Expect(rows.First).Not.ToHaveAttributeAsync("data-job-id", seen[0]); // the next page is shown
        await Expect(rows).ToHaveCountAsync(1 + ShortPagesDashboardRunnerFixture.Budget);
        seen.AddRange(await IdsAsync(rows));
        await Expect(next).ToBeEnabledAsync();
        await next.ClickAsync();
        await Expect(rows.First).Not.ToHaveAttributeAsync("data-job-id", seen[^4]);
        await Expect(rows).ToHaveCountAsync(2);
        seen.AddRange(await IdsAsync(rows));
        await Expect(next).ToBeDisabledAsync();

        Assert.Equal(10, seen.Distinct().Count()); // each of the ten once
        Assert.Equal(10, seen.Count);
        _session.AssertNoPageErrors();
    }

    private static async Task<IReadOnlyList<string>> IdsAsync(ILocator rows) =>
        [.. (await rows.EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.jobId)"))];
}

/// <summary>A runner for the dashboard whose listings follow at most <see cref="Budget"/> continuations, with <see cref="ShortTablePages"/> on.</summary>
public sealed class ShortPagesDashboardRunnerFixture : RunnerFixture
{
    public const int Budget = 3;

    public ShortPagesDashboardRunnerFixture() => ShortPages = new ShortTablePages { Table = TablePrefix + "Jobs" };

    public ShortTablePages ShortPages { get; }

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
        [new("Jobs:Storage:ListContinuationBudget", Budget.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    protected override void ConfigureServices(IServiceCollection services) =>
        services.AddSingleton(new StoragePipelinePolicy(ShortPages, Azure.Core.HttpPipelinePosition.PerCall));
}

[CollectionDefinition(Name)]
public sealed class ShortPagesDashboardCollection : ICollectionFixture<ShortPagesDashboardRunnerFixture>, ICollectionFixture<BrowserFixture>
{
    public const string Name = "short-pages-dashboard";
}
