using System.Net;
using Jobs.Tests.Infrastructure;

namespace Jobs.Tests.Identity;

/// <summary>With keys required, every function-level trigger wants the function key (or the system key).</summary>
[Collection(KeyedRunnerCollection.Name)]
public sealed class FunctionKeyTests(KeyedRunnerFixture runner)
{
    [Theory]
    [InlineData("/api/job-types", HttpStatusCode.Unauthorized)]
    [InlineData("/api/job-types?code=wrong", HttpStatusCode.Unauthorized)]
    [InlineData("/api/job-types?code=" + KeyedRunnerFixture.FunctionKey, HttpStatusCode.OK)]
    [InlineData("/api/jobs?code=" + KeyedRunnerFixture.FunctionKey, HttpStatusCode.OK)]
    public async Task Requests_NeedTheFunctionKey(string url, HttpStatusCode expected)
    {
        using var client = runner.Client("key-user");
        using var response = await client.GetAsync(url);
        Assert.Equal(expected, response.StatusCode);
        if (expected == HttpStatusCode.Unauthorized)
        {
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        }
    }

    [Fact]
    public async Task TheKeyHeader_AndTheSystemKey_AreAccepted()
    {
        using var client = runner.Client("key-user");
        client.DefaultRequestHeaders.Add("x-functions-key", KeyedRunnerFixture.FunctionKey);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/job-types")).StatusCode);
        using var system = runner.Client("key-user");
        Assert.Equal(HttpStatusCode.OK, (await system.GetAsync($"/api/job-types?code={runner.SystemKey}")).StatusCode);
    }
}
