using System.Text.Json.Nodes;
using Jobs.Functions.Api;
using Jobs.Functions.Model;
using Jobs.Functions.Submissions;

namespace Jobs.UnitTests.Api;

/// <summary>
/// The OpenAPI document's schemas against the C# types they are exported from (<see cref="OpenApiSchemas"/>): every
/// property typed as the API writes it, required exactly when it is always written, shared shapes by reference, the
/// create request as HTTP takes it.
/// </summary>
public sealed class OpenApiSchemasTests
{
    private static readonly JsonObject Schemas = OpenApiDocumentBuilder.Build("http://localhost/api")["components"]!["schemas"]!.AsObject();

    private static IEnumerable<(string Component, string Property, Type Type, JsonObject Schema)> Properties() =>
        from component in OpenApiDocumentBuilder.Components.Concat(OpenApiDocumentBuilder.RequestBodies)
        where !component.Value.IsEnum
        from property in JobJson.Options.GetTypeInfo(component.Value).Properties
        let schema = Schemas[component.Key]!["properties"]![property.Name] as JsonObject
        where schema is not null
        select (component.Key, property.Name, Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType, schema);

    [Fact]
    public void EveryIntegerProperty_IsAnIntegerWithItsFormat()
    {
        var integers = Properties().Where(p => p.Type == typeof(int) || p.Type == typeof(long)).ToList();

        Assert.Contains(integers, p => p is { Component: "Job", Property: "progress" });
        Assert.All(integers, p =>
        {
            Assert.Equal("integer", (string?)p.Schema["type"]);
            Assert.Equal(p.Type == typeof(int) ? "int32" : "int64", (string?)p.Schema["format"]);
            Assert.False(p.Schema.ContainsKey("pattern"), $"{p.Component}.{p.Property}");
        });
    }

    [Fact]
    public void EveryTimeProperty_IsADateTimeString()
    {
        var times = Properties().Where(p => p.Type == typeof(DateTimeOffset)).ToList();

        Assert.Contains(times, p => p is { Component: "Job", Property: "completedAt" });
        Assert.Contains(times, p => p is { Component: "DurableInstanceStatus", Property: "createdTime" });
        Assert.All(times, p =>
        {
            Assert.Equal("string", (string?)p.Schema["type"]);
            Assert.Equal("date-time", (string?)p.Schema["format"]);
        });
    }

    [Fact]
    public void SharedShapesAndEnums_AreReferencesToTheirComponents()
    {
        var shared = OpenApiDocumentBuilder.Components.ToDictionary(c => c.Value, c => c.Key);
        var nested = Properties().Where(p => shared.ContainsKey(p.Type)).ToList();

        Assert.Contains(nested, p => p is { Component: "Job", Property: "status" });
        Assert.Contains(nested, p => p is { Component: "CreateJobRequest", Property: "entity" });
        Assert.All(nested, p => Assert.Equal("#/components/schemas/" + shared[p.Type], (string?)p.Schema["$ref"]));
        Assert.Equal("#/components/schemas/JobSummary", (string?)Schemas["JobListView"]!["properties"]!["jobs"]!["items"]!["$ref"]);
        Assert.Equal("#/components/schemas/Pagination", (string?)Schemas["JobListView"]!["properties"]!["pagination"]!["$ref"]);
        Assert.Equal("#/components/schemas/JobLogLine", (string?)Schemas["JobLogPage"]!["properties"]!["lines"]!["items"]!["$ref"]);
        Assert.Equal("#/components/schemas/InputError", (string?)Schemas["ProblemDetails"]!["properties"]!["errors"]!["items"]!["$ref"]);
        Assert.Equal(
            Enum.GetValues<JobStatus>().Select(s => s.ToWire()),
            Schemas["JobStatus"]!["enum"]!.AsArray().Select(n => (string?)n));
        Assert.Equal("string", (string?)Schemas["JobStatus"]!["type"]);
    }

    [Fact]
    public void StatsScopeAndConsistency_ListTheirValues()
    {
        var stats = Schemas["JobStatsView"]!["properties"]!;

        Assert.Equal(["all", "owner"], stats["scope"]!["enum"]!.AsArray().Select(n => (string?)n));
        Assert.Equal(["immediate", "periodic"], stats["consistency"]!["enum"]!.AsArray().Select(n => (string?)n));
    }

    [Fact]
    public void NoSchema_SaysNull()
    {
        // JobJson never writes a null, so no generated client should have to handle one.
        Assert.DoesNotContain("\"null\"", Schemas.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Responses_RequireExactlyThePropertiesThatAreAlwaysWritten()
    {
        var job = Required("Job");
        Assert.Superset(new HashSet<string>
        {
            "id", "type", "status", "owner", "progress", "stepIndex", "stepCount", "metadata", "attempt", "totalAttempts",
            "cancelRequested", "createdAt", "updatedAt", "statusQueryGetUri", "sendEventPostUri", "terminatePostUri", "purgeHistoryDeleteUri",
        }, job);
        Assert.DoesNotContain("completedAt", job);
        Assert.DoesNotContain("error", job);
        Assert.DoesNotContain("nativeManagementUrls", job);
        Assert.Equal(["cancelRequested", "id", "progress", "status", "stepCount", "stepIndex", "updatedAt"], Required("JobStatusView").Order(StringComparer.Ordinal));
        Assert.Equal(["count", "hasNext", "limit", "offset"], Required("Pagination").Order(StringComparer.Ordinal));
        Assert.Equal(["detail", "status", "title", "type"], Required("ProblemDetails").Order(StringComparer.Ordinal));
        // Written as null when there is none, so always there.
        Assert.Contains("input", Required("DurableInstanceStatus"));
        Assert.DoesNotContain("historyEvents", Required("DurableInstanceStatus"));
    }

    [Fact]
    public void CreateJobRequest_RequiresTheType_AndLeavesOutTheQueueOnlyOwner()
    {
        var request = Schemas["CreateJobRequest"]!.AsObject();

        Assert.Equal(["type"], Required("CreateJobRequest"));
        Assert.False(request["properties"]!.AsObject().ContainsKey("owner"));
        Assert.True(typeof(JobSubmission).GetProperty(nameof(JobSubmission.Owner))!.IsDefined(typeof(QueueOnlyAttribute), false));
        // The API refuses members it does not know (JobJson.Strict).
        Assert.False((bool)request["additionalProperties"]!);
        Assert.Empty(Required("DraftPatch"));
        Assert.DoesNotContain("JobSubmission", Schemas.Select(s => s.Key));
    }

    private static HashSet<string> Required(string component) =>
        Schemas[component]!["required"] is JsonArray list ? list.Select(n => (string)n!).ToHashSet() : [];
}
