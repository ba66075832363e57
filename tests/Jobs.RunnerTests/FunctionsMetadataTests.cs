using System.Text.Json.Nodes;
using Jobs.Testing;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.RunnerTests;

/// <summary>
/// Core Tools cannot run here, so the Functions SDK's generated <c>functions.metadata</c> is checked instead: it
/// is what the Functions host indexes. The runner's route table must match it exactly, so the two cannot drift.
/// </summary>
[Collection(RunnerCollection.Name)]
public sealed class FunctionsMetadataTests(RunnerFixture runner)
{
    private static Lazy<JsonArray> Metadata => FunctionsMetadata.All;

    private static IEnumerable<JsonObject> Functions => Metadata.Value.Select(f => f!.AsObject());

    private static JsonObject Trigger(JsonObject function) =>
        function["bindings"]!.AsArray().Select(b => b!.AsObject()).Single(b => ((string)b["type"]!).EndsWith("Trigger", StringComparison.Ordinal));

    /// <summary>The HTTP contract: function name, route (below /api), methods. Changing one is a breaking change.</summary>
    public static TheoryData<string, string, string> HttpContract => new()
    {
        { "CreateJob", "jobs", "post" },
        { "ListJobs", "jobs", "get" },
        { "GetJob", "jobs/{id}", "get" },
        { "GetJobStatus", "jobs/{id}/status", "get" },
        { "GetJobLogs", "jobs/{id}/logs", "get" },
        { "GetJobAudit", "jobs/{id}/audit", "get" },
        { "GetJobResult", "jobs/{id}/result", "get" },
        { "ListJobArtifacts", "jobs/{id}/artifacts", "get" },
        { "GetJobArtifact", "jobs/{id}/artifacts/{name}", "get" },
        { "GetJobEvents", "jobs/{id}/events", "get" },
        { "CancelJob", "jobs/{id}/cancel", "post,put" },
        { "DecideJob", "jobs/{id}/decisions/{name}", "post" },
        { "UpdateDraft", "jobs/{id}", "patch" },
        { "SubmitDraft", "jobs/{id}/submit", "post" },
        { "RerunJob", "jobs/{id}/rerun", "post" },
        { "BulkJobs", "jobs/bulk", "post" },
        { "GetJobStats", "jobs/stats", "get" },
        { "GetMetrics", "metrics", "get" },
        { "ListJobTypes", "job-types", "get" },
        { "GetOpenApiDocument", "openapi.json", "get" },
        { "Dashboard", "dashboard/{file?}", "get" },
        { "ListEntityJobs", "entities/{type}/{id}/jobs", "get" },
        { "GetJobInstance", "jobs/{id}/instance", "get" },
        { "PurgeJobInstance", "jobs/{id}/instance", "delete" },
        { "TerminateJobInstance", "jobs/{id}/instance/terminate", "post" },
        { "RaiseJobInstanceEvent", "jobs/{id}/instance/raiseEvent/{eventName}", "post" },
        { "CreateWebhook", "webhooks", "post" },
        { "ListWebhooks", "webhooks", "get" },
        { "GetWebhook", "webhooks/{id}", "get" },
        { "DeleteWebhook", "webhooks/{id}", "delete" },
        { "ListWebhookDeliveries", "webhooks/{id}/deliveries", "get" },
        { "RetryWebhookDelivery", "webhooks/{id}/deliveries/{deliveryId}/retry", "post" },
        { "CreateSchedule", "schedules", "post" },
        { "ListSchedules", "schedules", "get" },
        { "GetSchedule", "schedules/{id}", "get" },
        { "UpdateSchedule", "schedules/{id}", "patch" },
        { "DeleteSchedule", "schedules/{id}", "delete" },
        { "PauseJobType", "job-types/{type}/pause", "post" },
        { "ResumeJobType", "job-types/{type}/resume", "post" },
    };

    [Theory]
    [MemberData(nameof(HttpContract))]
    public void HttpTrigger_HasItsRouteMethodsAndFunctionKeyLevel(string name, string route, string methods)
    {
        var trigger = Trigger(Functions.Single(f => (string?)f["name"] == name));
        Assert.Equal("httpTrigger", (string?)trigger["type"]);
        Assert.Equal(route, (string?)trigger["route"]);
        Assert.Equal(methods.Split(','), trigger["methods"]!.AsArray().Select(m => (string)m!));
        Assert.Equal("Function", (string?)trigger["authLevel"]);
    }

    /// <summary>The one anonymous route: probes and load balancers carry no key (docs/decisions.md, issue 29).</summary>
    [Fact]
    public void HealthTrigger_IsAnonymous_OnItsRoute()
    {
        var trigger = Trigger(Functions.Single(f => (string?)f["name"] == "GetHealth"));
        Assert.Equal("health", (string?)trigger["route"]);
        Assert.Equal(["get"], trigger["methods"]!.AsArray().Select(m => (string)m!));
        Assert.Equal("Anonymous", (string?)trigger["authLevel"]);
    }

    [Fact]
    public void EveryHttpTrigger_IsInTheContract() =>
        Assert.Equal(
            HttpContract.Select(row => (string)row[0]).Append("GetHealth").Order(),
            Functions.Where(f => (string?)Trigger(f)["type"] == "httpTrigger").Select(f => (string)f["name"]!).Order());

    [Fact]
    public void QueueAndDurableTriggers_AreDeclared()
    {
        var queue = Trigger(Functions.Single(f => (string?)f["name"] == "SubmitFromQueue"));
        Assert.Equal("queueTrigger", (string?)queue["type"]);
        Assert.Equal("job-submissions", (string?)queue["queueName"]);
        Assert.Equal("orchestrationTrigger", (string?)Trigger(Functions.Single(f => (string?)f["name"] == "JobOrchestrator"))["type"]);
        Assert.Equal("activityTrigger", (string?)Trigger(Functions.Single(f => (string?)f["name"] == "RunJobStep"))["type"]);
        Assert.Equal("activityTrigger", (string?)Trigger(Functions.Single(f => (string?)f["name"] == "FinishJob"))["type"]);
        Assert.Equal("activityTrigger", (string?)Trigger(Functions.Single(f => (string?)f["name"] == "AwaitDecision"))["type"]);
        // Literal schedules: the Functions host puts a timer whose %Setting% is not set in error, so a deployment
        // without app settings would never time out or purge anything.
        Assert.Equal("0 */1 * * * *", (string?)Trigger(Functions.Single(f => (string?)f["name"] == "SweepTimedOutJobs"))["schedule"]);
        Assert.Equal("0 0 3 * * *", (string?)Trigger(Functions.Single(f => (string?)f["name"] == "PurgeOldJobs"))["schedule"]);
        Assert.Equal("30 */1 * * * *", (string?)Trigger(Functions.Single(f => (string?)f["name"] == "DeliverOverdueWebhooks"))["schedule"]);
        Assert.Equal("*/5 * * * * *", (string?)Trigger(Functions.Single(f => (string?)f["name"] == "FireSchedules"))["schedule"]);
    }

    [Fact]
    public void Runner_ServesExactlyTheHttpTriggersOfTheMetadata()
    {
        var expected = Functions
            .Select(f => (Function: f, Trigger: Trigger(f)))
            .Where(x => (string?)x.Trigger["type"] == "httpTrigger")
            .SelectMany(x => x.Trigger["methods"]!.AsArray().Select(m => $"{((string)m!).ToUpperInvariant()} /api/{(string)x.Trigger["route"]!}"))
            .Order(StringComparer.Ordinal)
            .ToList();

        var served = runner.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.StartsWith("/api/", StringComparison.Ordinal))
            .SelectMany(e => e.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods.Select(m => $"{m} {e.RoutePattern.RawText}"))
            .Order(StringComparer.Ordinal)
            .ToList();

        Assert.Equal(expected, served);

        // Beside the app's routes the runner serves only the Durable extension's own HTTP API, as the host does.
        var others = runner.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Select(e => e.RoutePattern.RawText!)
            .Where(r => !r.StartsWith("/api/", StringComparison.Ordinal));
        Assert.All(others, r => Assert.StartsWith("/runtime/webhooks/durabletask/", r, StringComparison.Ordinal));
    }
}
