using Jobs.Functions.Identity;
using Jobs.Testing;
using Microsoft.Playwright;

namespace Jobs.BrowserTests;

/// <summary>
/// Pages of one test, signed in as App Service Authentication would sign a user in, that collect every console error,
/// uncaught script error and failed response (but those the test expects) — as <see cref="DashboardTests"/> does.
/// </summary>
internal sealed class DashboardSession(RunnerFixture runner, BrowserFixture browser) : IAsyncDisposable
{
    private readonly List<IBrowserContext> _contexts = [];
    private readonly List<string> _errors = [];

    /// <summary>Parts of URLs whose 4xx/5xx answers the test expects (a refused create, a deleted schedule).</summary>
    public List<string> ExpectedFailures { get; } = [];

    /// <summary>The API paths the pages requested (not the dashboard's own assets).</summary>
    public List<string> Requests { get; } = [];

    public async Task<IPage> OpenAsync(string user, string hash)
    {
        var context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ExtraHTTPHeaders = new Dictionary<string, string> { [CallerResolver.PrincipalHeader] = Principals.Header(user) },
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
        });
        _contexts.Add(context);
        var page = await context.NewPageAsync();
        page.Console += (_, message) =>
        {
            if (message.Type == "error" && !message.Text.StartsWith("Failed to load resource", StringComparison.Ordinal))
            {
                lock (_errors) _errors.Add($"console: {message.Text}");
            }
        };
        page.Response += (_, response) =>
        {
            if (response.Status >= 400 && !ExpectedFailures.Any(f => response.Url.Contains(f, StringComparison.Ordinal)))
            {
                lock (_errors) _errors.Add($"{response.Status} from {response.Url}");
            }
        };
        page.PageError += (_, error) => { lock (_errors) _errors.Add($"page error: {error}"); };
        page.Request += (_, request) =>
        {
            var path = new Uri(request.Url).AbsolutePath;
            if (path.StartsWith("/api/", StringComparison.Ordinal) && !path.StartsWith("/api/dashboard", StringComparison.Ordinal))
            {
                lock (Requests) Requests.Add($"{request.Method} {path}");
            }
        };
        await page.GotoAsync(new Uri(runner.BaseAddress, "/api/dashboard" + hash).ToString());
        return page;
    }

    public void AssertNoPageErrors()
    {
        lock (_errors)
        {
            Assert.True(_errors.Count == 0, string.Join("\n", _errors));
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var context in _contexts)
        {
            await context.CloseAsync();
        }
    }
}
