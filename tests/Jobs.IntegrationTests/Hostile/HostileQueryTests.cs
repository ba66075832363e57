using System.Net;
using System.Text.Json.Nodes;
using Jobs.Functions.Api;
using Jobs.Testing;

namespace Jobs.IntegrationTests.Hostile;

/// <summary>
/// Issue 25, item 2 (query amplification): list filters take known values only, at most
/// <see cref="JobListLimits.MaxFilterValues"/> each, and a page planned to cost more than
/// <see cref="JobListLimits.MaxStorageQueries"/> storage queries is refused; each a 400 naming the parameter, reading nothing.
/// </summary>
[Collection(HostileRunnerCollection.Name)]
public sealed class HostileQueryTests(HostileRunnerFixture runner)
{
    public static TheoryData<string, string> Refused => new()
    {
        // The attack as found: 900 made-up types, ordered by type (~900 storage queries before).
        { "/api/jobs?orderBy=type&type=" + string.Join(",", Enumerable.Range(0, 900).Select(i => "t" + i)), "type" },
        { "/api/jobs?type=no.such.type", "type" },
        { "/api/jobs?type=demo.steps,no.such.type&orderBy=type", "type" },
        { "/api/jobs?" + string.Join("&", Enumerable.Repeat("type=demo.steps", JobListLimits.MaxFilterValues + 1)), "type" },
        { "/api/jobs?status=" + string.Join(",", Enumerable.Repeat("completed", JobListLimits.MaxFilterValues + 1)), "status" },
        { "/api/entities/release/42/jobs?type=no.such.type", "type" },
        { "/api/entities/release/42/jobs?orderBy=type&type=" + string.Join(",", Enumerable.Range(0, 50).Select(i => "t" + i)), "type" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task ListFilter_UnknownOrTooManyValues_Is400NamingTheParameter_AndChangesNothing(string url, string parameter)
    {
        var owner = "query-" + Guid.NewGuid().ToString("N")[..8];
        using var client = runner.Client(owner);
        await HostileRequests.CreateDraftAsync(client, new { type = "demo.steps", entity = new { type = "release", id = "42" } });
        var before = await StoredState.CaptureAsync(runner);

        using var response = await client.GetAsync(url);

        await ProblemAssert.IsAsync(response, HttpStatusCode.BadRequest, parameter);
        await before.AssertUnchangedAsync();
    }

    [Fact]
    public async Task ListFilter_KnownValuesWithinTheCap_AreServed()
    {
        using var client = runner.Client("query-ok-" + Guid.NewGuid().ToString("N")[..8]);
        var id = await HostileRequests.CreateDraftAsync(client, new { type = "demo.steps" });

        var page = JsonNode.Parse(await client.GetStringAsync("/api/jobs?orderBy=type&type=demo.steps,demo.fanout&status=draft,pending"))!;

        Assert.Equal(id, (string?)page["jobs"]!.AsArray().Single()!["id"]);
    }

    /// <summary>
    /// Over 32 all-jobs buckets an admin's page ordered by status would cost 7 × 32 = 224 queries: refused naming orderBy;
    /// with two statuses (64 queries) it is served; with five (160) refused naming status.
    /// </summary>
    [Fact]
    public async Task AdminListing_PlannedOverTheQueryCap_Is400NamingTheParameter()
    {
        var manyBuckets = new CustomRunner(("Jobs:Storage:AllIndexBuckets", "32"));
        await manyBuckets.InitializeAsync();
        try
        {
            using var admin = manyBuckets.Client("query-admin", "admin");
            var before = await StoredState.CaptureAsync(manyBuckets);

            using var byStatus = await admin.GetAsync("/api/jobs?orderBy=status");
            await ProblemAssert.IsAsync(byStatus, HttpStatusCode.BadRequest, "orderBy");
            using var fiveStatuses = await admin.GetAsync("/api/jobs?orderBy=status&status=draft,pending,running,completed,failed");
            await ProblemAssert.IsAsync(fiveStatuses, HttpStatusCode.BadRequest, "status");
            using var twoStatuses = await admin.GetAsync("/api/jobs?orderBy=status&status=completed,failed");
            Assert.Equal(HttpStatusCode.OK, twoStatuses.StatusCode);
            await before.AssertUnchangedAsync();
        }
        finally
        {
            await manyBuckets.DisposeAsync();
        }
    }
}
