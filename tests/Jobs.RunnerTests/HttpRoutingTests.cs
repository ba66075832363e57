using System.Net;
using Jobs.Testing;

namespace Jobs.RunnerTests;

/// <summary>
/// Routing as the Functions host routes: each HTTP trigger's route is constrained to the trigger's methods
/// (Azure/azure-functions-host, src/WebJobs.Script.WebHost/WebScriptHostHttpRoutesManager.cs adds an ASP.NET Core
/// HttpMethodRouteConstraint, which matches the request method exactly — HEAD is not GET), so a method a route does
/// not list finds no route at all: 404, never 405. Nothing matched means an empty 404 (FunctionInvocationMiddleware /
/// ExceptionMiddleware write no body). Inside the Durable extension's webhook a method its HttpApiHandler does not
/// serve is also an empty 404.
/// </summary>
[Collection(RunnerCollection.Name)]
public sealed class HttpRoutingTests(RunnerFixture runner)
{
    private const string SomeJob = "/api/jobs/0123456789abcdef0123456789abcdef";

    [Theory]
    [InlineData("DELETE", SomeJob)]
    [InlineData("PUT", "/api/jobs")]
    [InlineData("GET", SomeJob + "/cancel")]
    [InlineData("HEAD", "/api/job-types")]
    [InlineData("HEAD", SomeJob + "/status")]
    [InlineData("OPTIONS", "/api/jobs")]
    [InlineData("GET", "/api/nothing-here")]
    [InlineData("GET", "/api")]
    [InlineData("PATCH", "/runtime/webhooks/durabletask/instances")]
    [InlineData("PUT", "/runtime/webhooks/durabletask/instances/abc")]
    public async Task MethodsARouteDoesNotList_AndUnknownPaths_AreEmpty404s(string method, string path)
    {
        using var client = runner.Client("routing-user");
        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Empty(response.Content.Headers.Allow);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        Assert.Null(response.Content.Headers.ContentType);
    }

    /// <summary>
    /// The root is the host's homepage (HomepageMiddleware: any request to "/" that no function took gets the HTML
    /// page, or 204 when AzureWebJobsDisableHomepage is true). The runner's page is its own text.
    /// </summary>
    [Fact]
    public async Task TheRoot_IsAnHtmlHomepage()
    {
        using var client = runner.Client(null);
        using var response = await client.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("up and running", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListedMethods_StillReachTheirFunctions()
    {
        using var client = runner.Client("routing-user");
        using var get = await client.GetAsync("/api/job-types");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        // POST and PUT are both listed on cancel: the app answers (404 problem for a job that does not exist).
        foreach (var method in new[] { HttpMethod.Post, HttpMethod.Put })
        {
            using var cancel = await client.SendAsync(new HttpRequestMessage(method, SomeJob + "/cancel"));
            Assert.Equal(HttpStatusCode.NotFound, cancel.StatusCode);
            Assert.Equal("application/problem+json", cancel.Content.Headers.ContentType?.MediaType);
        }
    }
}
