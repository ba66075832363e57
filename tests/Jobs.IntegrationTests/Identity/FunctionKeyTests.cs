using System.Net;
using Jobs.Testing;

namespace Jobs.IntegrationTests.Identity;

/// <summary>
/// With keys required, keys are checked as the Functions host checks them (Azure/azure-functions-host:
/// SecretManager.GetAuthorizationLevelAsync, AuthUtility.PrincipalHasAuthLevelClaim, AuthenticationLevelHandler):
/// a function-level route opens to a host function key or the master key (admin level opens everything), not to a
/// system key (its level is System, which only matches a webhook that names that key); the native Durable API opens to
/// its durabletask_extension system key or the master key; the x-functions-key header wins over the code parameter;
/// a refusal is an empty 401 (FunctionInvocationMiddleware's UnauthorizedResult).
/// </summary>
[Collection(KeyedRunnerCollection.Name)]
public sealed class FunctionKeyTests(KeyedRunnerFixture runner)
{
    private const string DurableList = "/runtime/webhooks/durabletask/instances?top=1";

    [Theory]
    [InlineData("/api/job-types", HttpStatusCode.Unauthorized)]
    [InlineData("/api/job-types?code=", HttpStatusCode.Unauthorized)]
    [InlineData("/api/job-types?code=wrong", HttpStatusCode.Unauthorized)]
    [InlineData("/api/job-types?code=" + KeyedRunnerFixture.FunctionKey, HttpStatusCode.OK)]
    [InlineData("/api/jobs?code=" + KeyedRunnerFixture.FunctionKey, HttpStatusCode.OK)]
    public async Task FunctionRoutes_NeedAFunctionKey(string url, HttpStatusCode expected)
    {
        using var client = runner.Client("key-user");
        using var response = await client.GetAsync(url);
        Assert.Equal(expected, response.StatusCode);
    }

    [Fact]
    public async Task ARefusal_IsAnEmpty401()
    {
        using var client = runner.Client("key-user");
        using var response = await client.GetAsync("/api/job-types?code=wrong");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        Assert.Null(response.Content.Headers.ContentType);
    }

    [Fact]
    public async Task TheKeyHeader_WinsOverTheCodeParameter()
    {
        using var right = runner.Client("key-user");
        right.DefaultRequestHeaders.Add("x-functions-key", KeyedRunnerFixture.FunctionKey);
        Assert.Equal(HttpStatusCode.OK, (await right.GetAsync("/api/job-types?code=wrong")).StatusCode);

        using var wrong = runner.Client("key-user");
        wrong.DefaultRequestHeaders.Add("x-functions-key", "wrong");
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync("/api/job-types?code=" + KeyedRunnerFixture.FunctionKey)).StatusCode);
    }

    [Fact]
    public async Task TheSystemKey_DoesNotOpenAFunctionRoute_ButOpensTheDurableApi()
    {
        using var client = runner.Client("key-user");
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync($"/api/job-types?code={runner.SystemKey}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"{DurableList}&code={runner.SystemKey}")).StatusCode);
    }

    [Fact]
    public async Task TheDurableApi_RefusesNoKey_AndAFunctionKey_WithAnEmpty401()
    {
        using var client = runner.Client("key-user");
        foreach (var url in new[] { DurableList, $"{DurableList}&code={KeyedRunnerFixture.FunctionKey}" })
        {
            using var response = await client.GetAsync(url);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        }
    }

    [Fact]
    public async Task TheStoredMasterKey_OpensFunctionRoutes_AndTheDurableApi()
    {
        var master = (string)(await runner.StoredSecretsAsync())["masterKey"]!["value"]!;
        using var client = runner.Client("key-user");
        client.DefaultRequestHeaders.Add("x-functions-key", master);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/job-types")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(DurableList)).StatusCode);
    }

    [Fact]
    public async Task ConfiguredKeys_ReplaceTheStoredOnes()
    {
        var secrets = await runner.StoredSecretsAsync();
        var storedFunctionKey = HostSecretsBlob.KeyValue(secrets, "functionKeys", "default");
        var storedSystemKey = HostSecretsBlob.KeyValue(secrets, "systemKeys", "durabletask_extension");
        Assert.NotEqual(KeyedRunnerFixture.FunctionKey, storedFunctionKey);
        Assert.NotEqual(runner.SystemKey, storedSystemKey);

        using var client = runner.Client("key-user");
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync($"/api/job-types?code={Uri.EscapeDataString(storedFunctionKey)}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync($"{DurableList}&code={Uri.EscapeDataString(storedSystemKey)}")).StatusCode);
    }
}
