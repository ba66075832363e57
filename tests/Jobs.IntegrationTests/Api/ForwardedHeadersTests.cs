using Jobs.Testing;

namespace Jobs.IntegrationTests.Api;

/// <summary>By default no caller is a trusted proxy: forwarding headers never shape the URLs the API hands out.</summary>
[Collection(RunnerCollection.Name)]
public sealed class ForwardedHeadersTests(RunnerFixture runner)
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ForwardingHeaders_FromAnUntrustedCaller_AreIgnored_LinksUseTheRealHost(bool admin)
    {
        using var client = HandedOutUrls.ForwardingClient(runner, "fwd-" + Guid.NewGuid().ToString("N")[..8], "https", "evil.example",
            admin ? ["admin"] : []);
        var origin = runner.BaseAddress.GetLeftPart(UriPartial.Authority);

        var urls = await HandedOutUrls.CollectAsync(client, admin);

        Assert.All(urls, u => Assert.True(u.Url.StartsWith(origin + "/", StringComparison.Ordinal), $"{u.What}: {u.Url}"));
    }
}
