using System.Net;
using System.Text.Json.Nodes;
using Jobs.Testing;

namespace Jobs.IntegrationTests.Api;

/// <summary>Listing: filters, orders, cursor paging that survives concurrent inserts, offset, entity jobs.</summary>
[Collection(RunnerCollection.Name)]
public sealed class ListJobsTests(RunnerFixture runner)
{
    private static async Task<List<string>> CreateManyAsync(HttpClient client, int count, Func<int, object> body)
    {
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            ids.Add((string)(await RunnerFixture.CreateJobAsync(client, body(i)))["id"]!);
        }
        return ids;
    }

    private static async Task<JsonObject> ListAsync(HttpClient client, string url)
    {
        using var response = await client.GetAsync(url);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{url} → {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    private static List<string> Ids(JsonObject page) => [.. page["jobs"]!.AsArray().Select(j => (string)j!["id"]!)];

    /// <summary>List rows are written just after the record, so wait until the listing shows every job ended.</summary>
    private static async Task WaitForListedEndAsync(HttpClient client, IReadOnlyCollection<string> ids)
    {
        foreach (var id in ids)
        {
            await RunnerFixture.WaitForEndAsync(client, id);
        }
        for (var i = 0; i < 100; i++)
        {
            var page = await ListAsync(client, "/api/jobs?status=completed,failed&limit=100");
            if (ids.All(Ids(page).Contains))
            {
                return;
            }
            await Task.Delay(50);
        }
        throw new TimeoutException("The listing never caught up with the records.");
    }

    [Fact]
    public async Task FilteredByCorrelationId_ListsExactlyTheJobsCreatedWithIt_PagedAndWithoutATotal()
    {
        using var client = runner.Client("corr-" + Guid.NewGuid().ToString("N")[..8]);
        var ids = await CreateManyAsync(client, 5, i => new { type = "demo.steps", input = new { steps = 1 }, correlationId = i % 2 == 0 ? "order-42" : "order-4" });
        var mine = ids.Where((_, i) => i % 2 == 0).ToList();

        var seen = new List<string>();
        string? url = "/api/jobs?correlationId=order-42&limit=2";
        while (url is not null)
        {
            var page = await ListAsync(client, url);
            Assert.Null(page["pagination"]!["total"]);
            Assert.All(page["jobs"]!.AsArray(), j => Assert.Equal("order-42", (string?)j!["correlationId"]));
            seen.AddRange(Ids(page));
            url = (string?)page["pagination"]!["nextLink"] is { } link ? new Uri(link).PathAndQuery : null;
        }
        // Exact match, newest first: "order-4" is not a prefix match of "order-42", nor the other way round.
        Assert.Equal(Enumerable.Reverse(mine), seen);
        Assert.Equal(2, Ids(await ListAsync(client, "/api/jobs?correlationId=order-4")).Count);
        using var bad = await client.GetAsync("/api/jobs?correlationId=");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("correlationId", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Paging_WalksEveryJobOnceNewestFirst_EvenWhileJobsArrive()
    {
        using var client = runner.Client("pager-" + Guid.NewGuid().ToString("N")[..8]);
        var ids = await CreateManyAsync(client, 7, _ => new { type = "demo.steps", input = new { steps = 1 } });

        var seen = new List<string>();
        var page = await ListAsync(client, "/api/jobs?limit=3");
        var added = 0;
        while (true)
        {
            seen.AddRange(Ids(page));
            Assert.True(page["jobs"]!.AsArray().Count <= 3);
            if (added < 2)
            {
                // New jobs land before the cursor, so the walk neither repeats nor skips anything.
                await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 1 } });
                added++;
            }
            var pagination = page["pagination"]!;
            if (!(bool)pagination["hasNext"]!)
            {
                Assert.Null(pagination["next"]);
                break;
            }
            page = await ListAsync(client, new Uri((string)pagination["nextLink"]!).PathAndQuery);
        }
        Assert.Equal(Enumerable.Reverse(ids), seen);
    }

    [Fact]
    public async Task Filters_ByStatusTypeAndTime_AloneAndCombined()
    {
        using var client = runner.Client("filter-" + Guid.NewGuid().ToString("N")[..8]);
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        var ok = await CreateManyAsync(client, 2, _ => new { type = "demo.steps", input = new { steps = 1 } });
        var bad = await CreateManyAsync(client, 1, _ => new { type = "demo.steps", input = new { steps = 1, failAtStep = 1 } });
        await WaitForListedEndAsync(client, [.. ok, .. bad]);

        Assert.Equal(bad, Ids(await ListAsync(client, "/api/jobs?status=failed")));
        Assert.Equal(3, Ids(await ListAsync(client, "/api/jobs?status=failed,completed")).Count);
        Assert.Equal(3, Ids(await ListAsync(client, "/api/jobs?status=failed&status=completed&type=demo.steps")).Count);
        Assert.Empty(Ids(await ListAsync(client, "/api/jobs?type=jobs.export-csv")));
        Assert.Empty(Ids(await ListAsync(client, "/api/jobs?status=running")));
        var since = Uri.EscapeDataString(before.ToString("O"));
        Assert.Equal(3, Ids(await ListAsync(client, $"/api/jobs?createdFrom={since}")).Count);
        Assert.Empty(Ids(await ListAsync(client, $"/api/jobs?createdTo={since}")));
        Assert.Equal(bad, Ids(await ListAsync(client, $"/api/jobs?createdFrom={since}&status=failed&orderBy=updatedAt")));
    }

    [Fact]
    public async Task Orders_ByCreatedUpdatedTypeAndStatus_InBothDirections()
    {
        using var client = runner.Client("order-" + Guid.NewGuid().ToString("N")[..8]);
        // The draft comes first: a one-step job can end within milliseconds, so a draft created after the jobs could
        // have its one status change after theirs, and the updatedAt order below would not be known in advance.
        var draft = (string)(await CreateDraftAsync(client))["id"]!;
        var ids = await CreateManyAsync(client, 3, i => new { type = "demo.steps", input = new { steps = 1, failAtStep = i == 1 ? 1 : (int?)null } });
        await WaitForListedEndAsync(client, ids);

        Assert.Equal([ids[2], ids[1], ids[0], draft], Ids(await ListAsync(client, "/api/jobs")));
        Assert.Equal([draft, ids[0], ids[1], ids[2]], Ids(await ListAsync(client, "/api/jobs?order=asc")));

        var byStatus = (await ListAsync(client, "/api/jobs?orderBy=status&order=asc"))["jobs"]!.AsArray().Select(j => (string)j!["status"]!).ToList();
        Assert.Equal(["completed", "completed", "draft", "failed"], byStatus);
        var byStatusDesc = (await ListAsync(client, "/api/jobs?orderBy=status&limit=1"))["jobs"]!.AsArray();
        Assert.Equal("failed", (string?)byStatusDesc[0]!["status"]);

        // The draft was indexed first and never changed status; the others last changed when they ended, later.
        var byUpdated = Ids(await ListAsync(client, "/api/jobs?orderBy=updatedAt&order=asc"));
        Assert.Equal(draft, byUpdated[0]);
        Assert.Equal(4, byUpdated.Count);
        Assert.Equal(byUpdated.AsEnumerable().Reverse(), Ids(await ListAsync(client, "/api/jobs?orderBy=updatedAt")));

        Assert.Equal(4, Ids(await ListAsync(client, "/api/jobs?orderBy=type&order=asc")).Count);
    }

    [Fact]
    public async Task PhasedOrders_PageAcrossPhases_WithoutRepeats()
    {
        using var client = runner.Client("phase-" + Guid.NewGuid().ToString("N")[..8]);
        var ids = await CreateManyAsync(client, 4, i => new { type = "demo.steps", input = new { steps = 1, failAtStep = i % 2 == 0 ? 1 : (int?)null } });
        await WaitForListedEndAsync(client, ids);
        var seen = new List<string>();
        var statuses = new List<string>();
        var url = "/api/jobs?orderBy=status&limit=1";
        for (var i = 0; i < 10; i++)
        {
            var page = await ListAsync(client, url);
            seen.AddRange(Ids(page));
            statuses.AddRange(page["jobs"]!.AsArray().Select(j => (string)j!["status"]!));
            if ((string?)page["pagination"]!["next"] is not { } next)
            {
                break;
            }
            url = "/api/jobs?orderBy=status&limit=1&next=" + next;
        }
        Assert.Equal(ids.Order(), seen.Order());
        Assert.Equal(["failed", "failed", "completed", "completed"], statuses);
    }

    [Fact]
    public async Task Offset_SkipsRows_AndRefusesToMixWithNext()
    {
        using var client = runner.Client("offset-" + Guid.NewGuid().ToString("N")[..8]);
        var ids = await CreateManyAsync(client, 5, _ => new { type = "demo.steps", input = new { steps = 1 } });

        var page = await ListAsync(client, "/api/jobs?offset=2&limit=2");
        Assert.Equal([ids[2], ids[1]], Ids(page));
        Assert.Equal(2, (int)page["pagination"]!["offset"]!);
        Assert.Empty(Ids(await ListAsync(client, "/api/jobs?offset=9")));

        var next = (string)(await ListAsync(client, "/api/jobs?limit=1"))["pagination"]!["next"]!;
        using var both = await client.GetAsync($"/api/jobs?offset=1&next={next}");
        Assert.Equal(HttpStatusCode.BadRequest, both.StatusCode);
        using var foreignCursor = await client.GetAsync($"/api/jobs?orderBy=updatedAt&next={next}");
        Assert.Equal(HttpStatusCode.BadRequest, foreignCursor.StatusCode);
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=101", "limit")]
    [InlineData("limit=abc", "limit")]
    [InlineData("offset=99999999", "offset")]
    [InlineData("status=exploded", "status")]
    [InlineData("orderBy=owner", "orderBy")]
    [InlineData("order=sideways", "order")]
    [InlineData("createdFrom=yesterday", "createdFrom")]
    [InlineData("createdFrom=2026-02-01T00:00:00Z&createdTo=2026-01-01T00:00:00Z", "createdFrom")]
    [InlineData("entityType=release", "entityId")]
    [InlineData("next=garbage", "next")]
    [InlineData("limit=1&limit=2", "limit")]
    [InlineData("colour=blue", "colour")]
    public async Task BadParameters_Are400_NamingTheParameter(string query, string parameter)
    {
        using var client = runner.Client("params");
        using var response = await client.GetAsync("/api/jobs?" + query);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(parameter, (string?)problem["errors"]![0]!["field"]);
    }

    [Fact]
    public async Task EntityJobs_ListTheJobsOfOneResource_ForTheirOwner()
    {
        var release = Guid.NewGuid().ToString("N")[..6];
        using var alice = runner.Client("ent-alice-" + release);
        using var bob = runner.Client("ent-bob-" + release);
        var mine = (string)(await RunnerFixture.CreateJobAsync(alice, new { type = "demo.steps", input = new { steps = 1 }, entity = new { type = "release", id = release } }))["id"]!;
        var theirs = (string)(await RunnerFixture.CreateJobAsync(bob, new { type = "demo.steps", input = new { steps = 1 }, entity = new { type = "release", id = release } }))["id"]!;
        await RunnerFixture.CreateJobAsync(alice, new { type = "demo.steps", input = new { steps = 1 }, entity = new { type = "release", id = release + "x" } });

        Assert.Equal([mine], Ids(await ListAsync(alice, $"/api/entities/release/{release}/jobs")));
        Assert.Equal([mine], Ids(await ListAsync(alice, $"/api/jobs?entityType=release&entityId={release}")));
        using var admin = runner.Client("ent-admin", "admin");
        Assert.Equal([theirs, mine], Ids(await ListAsync(admin, $"/api/entities/release/{release}/jobs")));
        Assert.Equal([theirs], Ids(await ListAsync(admin, $"/api/entities/release/{release}/jobs?owner=ent-bob-{release}")));
    }

    [Fact]
    public async Task Admins_SeeEveryonesJobs_AndFilterByOwner_UsersCannot()
    {
        var tag = Guid.NewGuid().ToString("N")[..6];
        using var carol = runner.Client("carol-" + tag);
        var id = (string)(await RunnerFixture.CreateJobAsync(carol, new { type = "demo.steps", input = new { steps = 1 } }))["id"]!;
        using var admin = runner.Client("root-" + tag, "admin");

        Assert.Equal([id], Ids(await ListAsync(admin, $"/api/jobs?owner=carol-{tag}")));
        Assert.Contains(id, Ids(await ListAsync(admin, "/api/jobs?limit=100")));
        using var dave = runner.Client("dave-" + tag);
        Assert.DoesNotContain(id, Ids(await ListAsync(dave, "/api/jobs")));
        using var forbidden = await dave.GetAsync($"/api/jobs?owner=carol-{tag}");
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
    }

    private static async Task<JsonObject> CreateDraftAsync(HttpClient client)
    {
        using var response = await client.PostAsync("/api/jobs", JsonContent("""{"type":"demo.steps","draft":true,"input":{"steps":1}}"""));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
    }

    private static StringContent JsonContent(string json) => new(json, System.Text.Encoding.UTF8, "application/json");
}
