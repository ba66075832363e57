using Jobs.Functions.Api;
using Jobs.Functions.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Jobs.UnitTests.Api;

/// <summary>Which requests a page of another site may have sent, and so are refused before anything runs.</summary>
public sealed class CrossSiteRequestsTests
{
    private const string OwnOrigin = "https://jobs-app.azurewebsites.net";

    private static CrossSiteRequests Policy(string? allowedOrigins = null)
    {
        var options = Options.Create(new HttpOptions { AllowedOrigins = allowedOrigins });
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [PublicUrls.HostNameSetting] = "jobs-app.azurewebsites.net" }).Build();
        return new CrossSiteRequests(options, new PublicUrls(options, configuration));
    }

    private static HttpRequest Request(string method, params (string Name, string Value)[] headers)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Scheme = "https";
        context.Request.Host = new HostString("jobs-app.azurewebsites.net");
        foreach (var (name, value) in headers)
        {
            context.Request.Headers.Append(name, value);
        }
        return context.Request;
    }

    private static ApiProblemException Refusal(CrossSiteRequests policy, HttpRequest request) =>
        Assert.Throws<ApiProblemException>(() => policy.Check(request));

    [Theory]
    [InlineData("POST", "cross-site", "https://evil.example")]
    [InlineData("PUT", "cross-site", "https://evil.example")]
    [InlineData("PATCH", "same-site", "https://other.azurewebsites.net")]
    [InlineData("DELETE", "cross-site", "null")]
    [InlineData("POST", "cross-site", "")]
    [InlineData("POST", "something-new", "https://evil.example")]
    public void StateChange_FromAnotherSite_Is403_NamingTheOrigin(string method, string site, string origin)
    {
        var headers = new List<(string, string)> { ("Sec-Fetch-Site", site) };
        if (origin.Length > 0)
        {
            headers.Add(("Origin", origin));
        }

        var refused = Refusal(Policy(), Request(method, [.. headers]));

        Assert.Equal(StatusCodes.Status403Forbidden, refused.Status);
        Assert.Contains(site, refused.Detail, StringComparison.Ordinal);
        Assert.Contains("Jobs:Http:AllowedOrigins", refused.Detail, StringComparison.Ordinal);
        Assert.Equal("Origin", Assert.Single(refused.Errors!).Field);
    }

    [Theory]
    [InlineData("https://evil.example")]
    [InlineData("null")]
    [InlineData("http://jobs-app.azurewebsites.net")]
    [InlineData("https://jobs-app.azurewebsites.net:8443")]
    public void StateChange_WithAForeignOrigin_AndNoFetchMetadata_Is403(string origin)
    {
        var refused = Refusal(Policy(), Request("POST", ("Origin", origin)));
        Assert.Equal(StatusCodes.Status403Forbidden, refused.Status);
        Assert.Contains(origin, refused.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("POST", "Sec-Fetch-Site", "same-origin")]
    [InlineData("DELETE", "Sec-Fetch-Site", "none")]
    [InlineData("PATCH", "Origin", OwnOrigin)]
    [InlineData("PUT", "Origin", "HTTPS://Jobs-App.azurewebsites.net:443")]
    [InlineData("POST", "X-Nothing", "a client that is no browser")]
    public void StateChange_FromTheAppsOwnPages_OrNoBrowser_Passes(string method, string header, string value) =>
        Policy().Check(Request(method, (header, value)));

    [Theory]
    [InlineData("GET")]
    [InlineData("HEAD")]
    [InlineData("OPTIONS")]
    public void Reads_AreNotChecked(string method) =>
        Policy().Check(Request(method, ("Sec-Fetch-Site", "cross-site"), ("Origin", "https://evil.example")));

    [Fact]
    public void CrossSite_FromAConfiguredOrigin_Passes()
    {
        var policy = Policy("https://portal.example.com, http://localhost:5173");
        policy.Check(Request("POST", ("Sec-Fetch-Site", "cross-site"), ("Origin", "https://portal.example.com")));
        policy.Check(Request("POST", ("Sec-Fetch-Site", "same-site"), ("Origin", "http://localhost:5173")));
        policy.Check(Request("POST", ("Origin", "https://portal.example.com")));
        Assert.Equal(StatusCodes.Status403Forbidden,
            Refusal(policy, Request("POST", ("Sec-Fetch-Site", "cross-site"), ("Origin", "https://portal.example.com.evil.example"))).Status);
    }

    [Theory]
    [InlineData(null, "is required for a request with a body: application/json")]
    [InlineData("text/plain", "must be application/json, not text/plain")]
    [InlineData("application/x-www-form-urlencoded", "must be application/json, not application/x-www-form-urlencoded")]
    [InlineData("multipart/form-data; boundary=x", "must be application/json, not multipart/form-data")]
    public void StateChange_WithABodyThatIsNotJson_Is415_NamingContentType(string? contentType, string message)
    {
        var request = Request("POST");
        request.ContentLength = 12;
        request.ContentType = contentType;

        var refused = Refusal(Policy(), request);

        Assert.Equal(StatusCodes.Status415UnsupportedMediaType, refused.Status);
        var error = Assert.Single(refused.Errors!);
        Assert.Equal(("Content-Type", message), (error.Field, error.Message));
    }

    [Fact]
    public void StateChange_ChunkedBodyWithoutContentType_Is415()
    {
        var request = Request("PATCH", ("Transfer-Encoding", "chunked"));
        Assert.Equal(StatusCodes.Status415UnsupportedMediaType, Refusal(Policy(), request).Status);
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("Application/JSON; charset=utf-8")]
    public void StateChange_WithAJsonBody_Passes(string contentType)
    {
        var request = Request("POST");
        request.ContentLength = 2;
        request.ContentType = contentType;
        Policy().Check(request);
    }

    [Fact]
    public void StateChange_WithoutABody_NeedsNoContentType()
    {
        var request = Request("POST");
        request.ContentLength = 0;
        Policy().Check(request);
        Policy().Check(Request("POST"));
    }

    [Theory]
    [InlineData("https://A.example", "https://a.example")]
    [InlineData("http://a.example:80", "http://a.example")]
    [InlineData("http://a.example:8080/", "http://a.example:8080")]
    [InlineData("http://[::1]:7071", "http://[::1]:7071")]
    [InlineData("https://a.example/path", null)]
    [InlineData("ftp://a.example", null)]
    [InlineData("null", null)]
    [InlineData("a.example", null)]
    [InlineData("https://u@a.example", null)]
    public void NormalizeOrigin_IsSchemeHostPort(string value, string? expected) =>
        Assert.Equal(expected, CrossSiteRequests.NormalizeOrigin(value));

    [Fact]
    public void AllowedOrigins_BadEntries_RefuseToStart_NamingThem()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Jobs:Http:AllowedOrigins"] = "https://ok.example, *, https://a.example/path",
        }).Build();
        using var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddJobs().BuildServiceProvider();

        var invalid = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<HttpOptions>>().Value);

        Assert.Contains(invalid.Failures, f => f.Contains("'*'", StringComparison.Ordinal));
        Assert.Contains(invalid.Failures, f => f.Contains("'https://a.example/path'", StringComparison.Ordinal));
        Assert.DoesNotContain(invalid.Failures, f => f.Contains("ok.example", StringComparison.Ordinal));
    }
}
