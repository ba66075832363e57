using Jobs.Testing;

namespace Jobs.IntegrationTests.Hostile;

/// <summary>
/// Issue 25, item 6 (reflected host): a caller's <c>Host</c> header or forwarding headers never shape the URLs the API
/// hands out — <c>Location</c> headers, the per-job links, <c>nextLink</c>, admins' native management URLs.
/// </summary>
[Collection(HostileSuiteCollection.Name)]
public sealed class HostileHostHeaderTests(HostileSuiteRunnerFixture runner)
{
    private const string EvilHost = "evil.example:666";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ForgedHostHeader_IsNeverReflected_EveryUrlUsesTheAppsOwnAddress(bool admin)
    {
        using var client = runner.Client("host-" + Guid.NewGuid().ToString("N")[..8], admin ? ["admin"] : []);
        client.DefaultRequestHeaders.Host = EvilHost;
        var origin = runner.BaseAddress.GetLeftPart(UriPartial.Authority);

        var urls = await HandedOutUrls.CollectAsync(client, admin);

        Assert.All(urls, u => Assert.True(u.Url.StartsWith(origin + "/", StringComparison.Ordinal), $"{u.What}: {u.Url}"));
        Assert.Contains(urls, u => u.What == "running instance Location");
        Assert.Equal(admin, urls.Any(u => u.What.Contains("nativeManagementUrls", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ForwardingHeaders_FromAnUntrustedCaller_AreIgnored_LinksUseTheAppsOwnAddress(bool admin)
    {
        using var client = HandedOutUrls.ForwardingClient(runner, "fwd-" + Guid.NewGuid().ToString("N")[..8], "https", "evil.example",
            admin ? ["admin"] : []);
        var origin = runner.BaseAddress.GetLeftPart(UriPartial.Authority);

        var urls = await HandedOutUrls.CollectAsync(client, admin);

        Assert.All(urls, u => Assert.True(u.Url.StartsWith(origin + "/", StringComparison.Ordinal), $"{u.What}: {u.Url}"));
    }

    [Fact]
    public async Task ConfiguredPublicBaseUrl_IsEveryUrlsBase_WhateverTheHostHeaderSays()
    {
        var configured = new CustomRunner(("Jobs:Http:PublicBaseUrl", "https://jobs.example.test/tools/"));
        await configured.InitializeAsync();
        try
        {
            using var client = configured.Client("base-" + Guid.NewGuid().ToString("N")[..8], "admin");
            client.DefaultRequestHeaders.Host = EvilHost;

            var urls = await HandedOutUrls.CollectAsync(client, admin: true);

            Assert.All(urls, u => Assert.True(u.Url.StartsWith("https://jobs.example.test/tools/", StringComparison.Ordinal), $"{u.What}: {u.Url}"));
            Assert.Contains(urls, u => u.Url.StartsWith("https://jobs.example.test/tools/runtime/webhooks/durabletask/instances/", StringComparison.Ordinal));
        }
        finally
        {
            await configured.DisposeAsync();
        }
    }
}
