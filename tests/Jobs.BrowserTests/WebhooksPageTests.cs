using System.Text.Json.Nodes;
using Jobs.Functions.Identity;
using Jobs.Testing;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Jobs.BrowserTests;

/// <summary>
/// The dashboard's webhooks page (<c>#/webhooks</c>) in Debian's Chromium, against a runner that may deliver to loopback
/// (<see cref="WebhookRunnerFixture"/>) and a Node receiver that verifies every delivery: add a subscription (its secret
/// shown once), see its delivery log fill, retry a delivery by hand, delete it. Fails on any console or script error.
/// </summary>
[Collection(WebhooksPageCollection.Name)]
public sealed class WebhooksPageTests(WebhookRunnerFixture runner, BrowserFixture browser) : IAsyncLifetime
{
    private readonly string _owner = "ui-wh-" + Guid.NewGuid().ToString("N")[..8];
    private readonly List<string> _pageErrors = [];
    private IBrowserContext? _context;
    private WebhookReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await WebhookReceiver.StartAsync();

    public async Task DisposeAsync()
    {
        if (_context is not null)
        {
            await _context.CloseAsync();
        }
        await _receiver.DisposeAsync();
    }

    [Fact]
    public async Task AddingASubscription_ShowsItsSecretOnce_ItsDeliveryLogCanRetry_AndDeleteRemovesIt()
    {
        var page = await OpenAsync("#/webhooks");
        await Expect(page.Locator("table.webhooks")).ToContainTextAsync("No subscriptions yet.");

        await page.FillAsync("#wh-url", _receiver.UrlOf("page"));
        await page.FillAsync("#wh-description", "from the browser test");
        await page.ClickAsync("form.webhook-new button[type=submit]");
        var secret = page.Locator("#wh-secret code.secret");
        await Expect(secret).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^whsec_"));
        var row = page.Locator("table.webhooks tbody tr[data-webhook]");
        await Expect(row).ToHaveCountAsync(1);
        var id = await row.GetAttributeAsync("data-webhook");
        // The secret is in the creation's answer only: the API never shows it again.
        using var api = runner.Client(_owner);
        var stored = JsonNode.Parse(await api.GetStringAsync($"/api/webhooks/{id}"))!;
        Assert.Null(stored["secret"]);
        Assert.Equal(["job.completed", "job.failed"], stored["events"]!.AsArray().Select(e => (string)e!));
        await _receiver.ConfigureAsync("page", await secret.TextContentAsync() ?? "");

        var job = (string)(await RunnerFixture.CreateJobAsync(api, new { type = "demo.steps", input = new { steps = 1 } }))["id"]!;
        await RunnerFixture.WaitForEndAsync(api, job);
        await Conditions.WaitUntilAsync(async () => (await _receiver.ReceivedAsync("page")).Count == 1, "the receiver never got the completion");

        await page.ClickAsync($"table.webhooks a[href='#/webhooks/{id}']");
        var delivery = page.Locator("table.deliveries tbody tr[data-delivery]");
        await Expect(delivery).ToHaveCountAsync(1);
        await Expect(delivery.Locator("td.state")).ToHaveTextAsync("delivered");
        await Expect(delivery.Locator("td.attempts")).ToHaveTextAsync("1");
        await Expect(delivery).ToContainTextAsync("job.completed");

        // A manual retry of a delivered event is one more try, with the same webhook-id.
        await delivery.Locator("button", new() { HasTextString = "Retry" }).ClickAsync();
        await Conditions.WaitUntilAsync(async () => (await _receiver.ReceivedAsync("page")).Count == 2, "the manual retry never reached the receiver");
        var received = await _receiver.ReceivedAsync("page");
        Assert.All(received, r => Assert.True(r.Verified, r.Error));
        Assert.Equal(received[0].Id, received[1].Id);
        await page.ReloadAsync();
        await Expect(page.Locator("table.deliveries tbody tr[data-delivery] td.attempts")).ToHaveTextAsync("2", new() { Timeout = 15_000 });

        await page.ClickAsync("a[href='#/webhooks']");
        page.Dialog += async (_, dialog) => await dialog.AcceptAsync();
        await page.Locator($"table.webhooks tr[data-webhook='{id}'] button").ClickAsync();
        await Expect(page.Locator("table.webhooks")).ToContainTextAsync("No subscriptions yet.");
        Assert.Empty(JsonNode.Parse(await api.GetStringAsync("/api/webhooks"))!["items"]!.AsArray());
        Assert.True(_pageErrors.Count == 0, string.Join("\n", _pageErrors));
    }

    private async Task<IPage> OpenAsync(string hash)
    {
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
        await page.GotoAsync(new Uri(runner.BaseAddress, "/api/dashboard" + hash).ToString());
        return page;
    }
}

[CollectionDefinition(Name)]
public sealed class WebhooksPageCollection : ICollectionFixture<WebhookRunnerFixture>, ICollectionFixture<BrowserFixture>
{
    public const string Name = "webhooks-page";
}
