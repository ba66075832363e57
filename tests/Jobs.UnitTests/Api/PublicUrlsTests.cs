using System.Net;
using Jobs.Functions.Api;
using Jobs.Functions.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Jobs.UnitTests.Api;

/// <summary>Which requests may decide the scheme and host of the URLs the API hands out.</summary>
public sealed class PublicUrlsTests
{
    /// <summary>The app's own address, as Azure sets WEBSITE_HOSTNAME.</summary>
    private const string OwnHost = "jobs-app.azurewebsites.net";

    private static PublicUrls Urls(string? trustedProxies = null, string? hostName = OwnHost, string? publicBaseUrl = null) =>
        new(Options.Create(new HttpOptions { TrustedProxies = trustedProxies, PublicBaseUrl = publicBaseUrl }),
            new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [PublicUrls.HostNameSetting] = hostName }).Build());

    private static HttpRequest Request(string peer, params (string Name, string Value)[] headers)
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(peer);
        context.Request.Scheme = "http";
        // What the caller put in Host: never in a URL the app hands out.
        context.Request.Host = new HostString("attacker.example:8080");
        foreach (var (name, value) in headers)
        {
            context.Request.Headers.Append(name, value);
        }
        return context.Request;
    }

    private static readonly (string, string)[] Spoofed =
    [
        ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-Host", "evil.example"),
        ("Forwarded", "proto=https;host=evil.example"),
    ];

    [Fact]
    public void BaseUrl_NoTrustedProxies_IgnoresEveryForwardedHeader() =>
        Assert.Equal("https://" + OwnHost, Urls().BaseUrl(Request("127.0.0.1", Spoofed)));

    [Fact]
    public void BaseUrl_PeerNotTrusted_IgnoresEveryForwardedHeader() =>
        Assert.Equal("https://" + OwnHost, Urls("10.0.0.4, 192.168.0.0/16").BaseUrl(Request("10.0.0.5", Spoofed)));

    [Fact]
    public void BaseUrl_TrustedPeer_UsesXForwardedProtoAndHost() =>
        Assert.Equal("https://jobs.example.test", Urls("10.0.0.4").BaseUrl(Request("10.0.0.4",
            ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "jobs.example.test"))));

    [Theory]
    [InlineData("10.1.2.3", "10.0.0.0/8")]
    [InlineData("2001:db8::7", "2001:db8::/32")]
    [InlineData("::1", "127.0.0.1, ::1")]
    public void BaseUrl_PeerInsideATrustedNetwork_IsTrusted(string peer, string trusted) =>
        Assert.Equal("https://jobs.example.test", Urls(trusted).BaseUrl(Request(peer, ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "jobs.example.test"))));

    [Fact]
    public void BaseUrl_IPv4MappedLoopbackPeer_MatchesTrustedIPv4Loopback()
    {
        var urls = Urls("127.0.0.1");
        Assert.True(urls.IsTrustedProxy(IPAddress.Parse("::ffff:127.0.0.1")));
        Assert.Equal("https://jobs.example.test", urls.BaseUrl(Request("::ffff:127.0.0.1", ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "jobs.example.test"))));
        Assert.False(urls.IsTrustedProxy(IPAddress.Parse("::ffff:127.0.0.2")));
    }

    [Fact]
    public void BaseUrl_TrustedPeer_PrefersForwarded_AndReadsItsLastElement()
    {
        var request = Request("10.0.0.4",
            ("Forwarded", "for=198.51.100.7;host=client-said.example;proto=http"),
            ("Forwarded", "for=\"[2001:db8::1]:4711\";Proto=HTTPS;host=\"jobs.example.test:8443\""),
            ("X-Forwarded-Proto", "http"),
            ("X-Forwarded-Host", "legacy.example"));
        Assert.Equal("https://jobs.example.test:8443", Urls("10.0.0.4").BaseUrl(request));
    }

    [Fact]
    public void BaseUrl_TrustedPeer_ForwardedWithoutHost_FallsBackToXForwardedHost() =>
        Assert.Equal("https://legacy.example", Urls("10.0.0.4").BaseUrl(Request("10.0.0.4",
            ("Forwarded", "for=198.51.100.7;proto=https"), ("X-Forwarded-Host", "legacy.example"))));

    [Fact]
    public void BaseUrl_TrustedPeer_XForwardedLists_UseTheLastHop() =>
        Assert.Equal("https://jobs.example.test", Urls("10.0.0.4").BaseUrl(Request("10.0.0.4",
            ("X-Forwarded-Proto", "http, https"), ("X-Forwarded-Host", "client-said.example, jobs.example.test"))));

    [Theory]
    [InlineData("javascript", "evil.example/path")]
    [InlineData("ftp", "user@evil.example")]
    [InlineData("https://x", "evil.example#frag")]
    [InlineData("", "evil .example")]
    public void BaseUrl_TrustedPeer_MalformedValues_AreIgnored(string proto, string host) =>
        Assert.Equal("https://" + OwnHost, Urls("10.0.0.4").BaseUrl(Request("10.0.0.4",
            ("X-Forwarded-Proto", proto), ("X-Forwarded-Host", host))));

    [Fact]
    public void BaseUrl_KeepsThePathBase()
    {
        var request = Request("10.0.0.4", ("X-Forwarded-Host", "jobs.example.test"));
        request.PathBase = "/jobs";
        Assert.Equal("https://jobs.example.test/jobs", Urls("10.0.0.4").BaseUrl(request));
    }

    [Fact]
    public void BaseUrl_NoPeerAddress_IsNotTrusted()
    {
        var context = new DefaultHttpContext();
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("attacker.example");
        context.Request.Headers["X-Forwarded-Host"] = "evil.example";
        Assert.Equal("https://" + OwnHost, Urls("0.0.0.0/0").BaseUrl(context.Request));
    }

    [Fact]
    public void BaseUrl_RawHostHeader_IsNeverUsed_TheAppsOwnHostNameIs() =>
        Assert.Equal("https://" + OwnHost, Urls().BaseUrl(Request("198.51.100.7")));

    [Theory]
    [InlineData("localhost:7071", "http", "http://localhost:7071")]
    [InlineData("127.0.0.1:40123", "http", "http://127.0.0.1:40123")]
    [InlineData("[::1]:7071", "https", "https://[::1]:7071")]
    [InlineData("jobs-app.azurewebsites.net", "http", "https://jobs-app.azurewebsites.net")]
    public void BaseUrl_OwnHostName_IsHttpsUnlessLoopback_ThenTheConnectionsScheme(string hostName, string requestScheme, string expected)
    {
        var request = Request("127.0.0.1");
        request.Scheme = requestScheme;
        Assert.Equal(expected, Urls(hostName: hostName).BaseUrl(request));
    }

    [Fact]
    public void BaseUrl_ConfiguredPublicBase_WinsOverEverything()
    {
        var request = Request("10.0.0.4", Spoofed);
        request.PathBase = "/ignored";
        Assert.Equal("https://jobs.example.com/tools/jobs",
            Urls("10.0.0.4", publicBaseUrl: "https://jobs.example.com/tools/jobs/").BaseUrl(request));
    }

    [Fact]
    public void BaseUrl_NothingConfigured_FailsInsteadOfEchoingTheHost()
    {
        var failure = Assert.Throws<InvalidOperationException>(() => Urls(hostName: null).BaseUrl(Request("127.0.0.1")));
        Assert.Contains("Jobs:Http:PublicBaseUrl", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BaseUrl_TrustedProxyForwardingOnlyTheScheme_KeepsTheAppsOwnHost() =>
        Assert.Equal("http://" + OwnHost, Urls("10.0.0.4").BaseUrl(Request("10.0.0.4", ("X-Forwarded-Proto", "http"))));

    [Theory]
    [InlineData("jobs.example.com")]
    [InlineData("ftp://jobs.example.com")]
    [InlineData("https://jobs.example.com/?x=1")]
    [InlineData("https://user@jobs.example.com")]
    [InlineData("https://jobs.example.com/#top")]
    public void PublicBaseUrl_NotAnHttpUrl_RefusesToStart(string value)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Jobs:Http:PublicBaseUrl"] = value,
        }).Build();
        using var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddJobs().BuildServiceProvider();

        var invalid = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<HttpOptions>>().Value);

        Assert.Contains(invalid.Failures, f => f.Contains($"'{value}'", StringComparison.Ordinal));
    }

    [Fact]
    public void TrustedProxies_BadEntries_RefuseToStart_NamingThem()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Jobs:Http:TrustedProxies"] = "127.0.0.1, proxy.example, 10.1, 10.0.0.0/33",
        }).Build();
        using var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddJobs().BuildServiceProvider();

        var invalid = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<HttpOptions>>().Value);

        Assert.Contains(invalid.Failures, f => f.Contains("'proxy.example'", StringComparison.Ordinal));
        Assert.Contains(invalid.Failures, f => f.Contains("'10.1'", StringComparison.Ordinal));
        Assert.Contains(invalid.Failures, f => f.Contains("'10.0.0.0/33'", StringComparison.Ordinal));
        Assert.DoesNotContain(invalid.Failures, f => f.Contains("127.0.0.1", StringComparison.Ordinal));
    }

    [Fact]
    public void TrustedProxies_AddressesAndNetworks_Parse()
    {
        var networks = new HttpOptions { TrustedProxies = " 127.0.0.1 ,::1, 10.0.0.0/8,, ::ffff:192.0.2.1" }.TrustedProxyNetworks();
        Assert.Equal(["127.0.0.1/32", "::1/128", "10.0.0.0/8", "192.0.2.1/32"], networks.Select(n => n.ToString()));
        Assert.Empty(new HttpOptions().TrustedProxyNetworks());
        Assert.Throws<FormatException>(() => new HttpOptions { TrustedProxies = "localhost" }.TrustedProxyNetworks());
    }

    [Fact]
    public void ClientAddress_PeerNotTrusted_IsThePeer_WhateverItsHeadersSay() =>
        Assert.Equal("10.0.0.5", Urls("10.0.0.4").ClientAddress(Request("10.0.0.5", ("X-Forwarded-For", "203.0.113.9"), ("Forwarded", "for=203.0.113.9"))));

    [Fact]
    public void ClientAddress_NoTrustedProxies_IsThePeer() =>
        Assert.Equal("127.0.0.1", Urls().ClientAddress(Request("127.0.0.1", ("X-Forwarded-For", "203.0.113.9"))));

    [Theory]
    [InlineData("X-Forwarded-For", "198.51.100.1, 203.0.113.9", "203.0.113.9")]
    [InlineData("Forwarded", "for=198.51.100.1, for=\"[2001:db8::7]:4711\"", "2001:db8::7")]
    [InlineData("Forwarded", "for=203.0.113.9:80;proto=https", "203.0.113.9")]
    public void ClientAddress_TrustedPeer_IsTheLastHopItForwarded(string header, string value, string expected) =>
        Assert.Equal(expected, Urls("10.0.0.4").ClientAddress(Request("10.0.0.4", (header, value))));

    [Theory]
    [InlineData("X-Forwarded-For", "not-an-address")]
    [InlineData("Forwarded", "for=unknown")]
    [InlineData("Forwarded", "for=_hidden")]
    public void ClientAddress_TrustedPeer_ForwardingNoAddress_IsThePeer(string header, string value) =>
        Assert.Equal("10.0.0.4", Urls("10.0.0.4").ClientAddress(Request("10.0.0.4", (header, value))));

    [Fact]
    public void ClientAddress_IPv4MappedPeer_IsWrittenAsIPv4() =>
        Assert.Equal("192.0.2.8", Urls().ClientAddress(Request("::ffff:192.0.2.8")));
}
