using Jobs.Functions.Api;
using Jobs.LocalRunner.Configuration;
using Jobs.LocalRunner.Durable;
using Jobs.Testing;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;

namespace Jobs.RunnerTests;

/// <summary>
/// A <c>[DurableClient]</c> parameter gets what the isolated worker gives it under the host: the worker extension's
/// FunctionsDurableTaskClient (Worker.Extensions.DurableTask 1.21.1, made by its DurableTaskClientConverter) holding the
/// Durable extension's webhook URL — built by the host's DefaultScriptWebHookProvider from WEBSITE_HOSTNAME, http for
/// <c>localhost:</c>, else https — and the required query string. So the app's management links come from the worker
/// extension's own CreateHttpManagementPayload (DurableTaskClientExtensions.SetHeadersAndGetPayload), the code that runs
/// in Azure, with no runner-only branch in the app.
/// </summary>
public sealed class DurableClientBindingTests
{
    private const string Query = "taskHub=JobsHub&connection=Storage&code=k3y";

    private static Microsoft.DurableTask.Client.DurableTaskClient Bound(string websiteHostName) =>
        new DurableClientBinding(
            new ConfigurationBuilder().AddInMemoryCollection([new("WEBSITE_HOSTNAME", websiteHostName)]).Build(),
            new EngineSettings("JobsHub", null!, new HostSettings(), "worker", Query))
        .Bind(ListenerParts.UnusedDurableClient());

    [Theory]
    [InlineData("localhost:7071", "http://localhost:7071")]
    [InlineData("jobs-app.azurewebsites.net", "https://jobs-app.azurewebsites.net")]
    public void DurableClient_IsTheWorkersClient_WhosePayloadIsBuiltOnTheExtensionsWebhookUrl(string websiteHostName, string origin)
    {
        var durable = Bound(websiteHostName);

        Assert.Equal("Microsoft.Azure.Functions.Worker.FunctionsDurableTaskClient", durable.GetType().FullName);
        var payload = durable.CreateHttpManagementPayload("job 1");
        var instance = $"{origin}/runtime/webhooks/durabletask/instances/job%201";
        Assert.Equal($"{instance}?{Query}", payload.StatusQueryGetUri);
        Assert.Equal($"{instance}/raiseEvent/{{eventName}}?{Query}", payload.SendEventPostUri);
        Assert.Equal($"{instance}/terminate?reason={{text}}&{Query}", payload.TerminatePostUri);
        Assert.Equal($"{instance}?{Query}", payload.PurgeHistoryDeleteUri);
    }

    [Fact]
    public void ManagementLinks_AreThePayloadsUrls_UnderTheAppsPublicAddress()
    {
        var links = NativeManagementLinks.For(Bound("jobs-app.azurewebsites.net"), "https://jobs.example.com/edge", "abc");

        var instance = "https://jobs.example.com/edge/runtime/webhooks/durabletask/instances/abc";
        Assert.Equal("abc", links.Id);
        Assert.Equal($"{instance}?{Query}", links.StatusQueryGetUri);
        Assert.Equal($"{instance}/raiseEvent/{{eventName}}?{Query}", links.SendEventPostUri);
        Assert.Equal($"{instance}/terminate?reason={{text}}&{Query}", links.TerminatePostUri);
        Assert.Equal($"{instance}?{Query}", links.PurgeHistoryDeleteUri);
    }
}
