using System.Net;
using System.Text.Json.Nodes;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;
using Jobs.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.IntegrationTests.Storage;

/// <summary>
/// A listing call follows at most <see cref="StorageOptions.ListContinuationBudget"/> continuations (docs/storage.md).
/// Azurite answers a filtered range query with every match up to <c>$top</c>, so <see cref="ShortTablePages"/> cuts its
/// answers to one row and a continuation, as Azure's are when a filter scans: then a page is answered short (even empty)
/// with a <c>next</c>, and walking <c>next</c> to the end yields every match once, in order.
/// </summary>
[Collection(BoundedListRunnerCollection.Name)]
public sealed class BoundedListingTests(BoundedListRunnerFixture runner) : IDisposable
{
    private const int Buckets = StorageOptions.DefaultAllIndexBuckets;
    private static readonly DateTimeOffset Start = new(2092, 3, 1, 0, 0, 0, TimeSpan.Zero);

    public void Dispose()
    {
        runner.ShortPages.Enabled = false;
        runner.Faults.Clear();
    }

    [Fact]
    public async Task AdminListing_WithAFilterThatScans_StopsAtTheBudget_AndWalkingNextYieldsEveryMatchOnceInOrder()
    {
        var correlation = "bl-" + Guid.NewGuid().ToString("N")[..8];
        var jobs = await SeedAsync(40, i => i % 3 == 0 ? JobStatus.Failed : JobStatus.Completed, correlationId: correlation);
        var expected = jobs.Where(j => j.Status == JobStatus.Failed).OrderByDescending(j => j.CreatedAt).Select(j => j.Id).ToList();
        using var admin = runner.Client("bl-admin", "admin");
        var url = $"/api/jobs?status=failed&correlationId={correlation}&limit=10";

        var unbounded = await WalkAsync(admin, url);
        Assert.Equal(expected, unbounded.Ids);

        runner.ShortPages.Enabled = true;
        var walk = await WalkAsync(admin, url);

        Assert.Equal(expected, walk.Ids);
        Assert.All(walk.Pages, p => Assert.True(p.Continuations <= BoundedListRunnerFixture.Budget && p.Requests <= Buckets + BoundedListRunnerFixture.Budget,
            $"a call made {p.Requests} range reads, {p.Continuations} of them continuations"));
        Assert.Contains(walk.Pages, p => p.Rows < 10 && p.HasNext); // the budget cut a page short, and it said so
        Assert.False(walk.Pages[^1].HasNext);
    }

    [Fact]
    public async Task StatusOrderedListing_StoppedByTheBudget_ResumesInsideAndAcrossPhases()
    {
        var correlation = "bl-" + Guid.NewGuid().ToString("N")[..8];
        JobStatus[] statuses = [JobStatus.Completed, JobStatus.Failed, JobStatus.Cancelled];
        var jobs = await SeedAsync(36, i => statuses[i % 3], correlationId: correlation);
        var expected = jobs.OrderByDescending(j => j.Status.ToWire(), StringComparer.Ordinal).ThenByDescending(j => j.CreatedAt).Select(j => j.Id).ToList();
        using var admin = runner.Client("bl-admin", "admin");
        runner.ShortPages.Enabled = true;

        var walk = await WalkAsync(admin, $"/api/jobs?orderBy=status&correlationId={correlation}&limit=10");

        Assert.Equal(expected, walk.Ids);
        var phases = Enum.GetValues<JobStatus>().Length;
        Assert.All(walk.Pages, p => Assert.True(p.Continuations <= BoundedListRunnerFixture.Budget && p.Requests - p.Continuations <= Buckets * phases,
            $"a call made {p.Requests} range reads, {p.Continuations} of them continuations"));
        Assert.Contains(walk.Pages, p => p.Rows < 10 && p.HasNext); // a phase of 12 matches takes 12 responses: more than 5 + the budget
    }

    [Fact]
    public async Task AFilterMatchingNothing_EndsInOneBoundedCall_WithoutNext()
    {
        await SeedAsync(10, _ => JobStatus.Completed, correlationId: "bl-" + Guid.NewGuid().ToString("N")[..8]);
        using var admin = runner.Client("bl-admin", "admin");
        runner.ShortPages.Enabled = true;

        var walk = await WalkAsync(admin, $"/api/jobs?correlationId=bl-none-{Guid.NewGuid():N}&limit=10");

        var page = Assert.Single(walk.Pages);
        Assert.Equal((0, false), (page.Rows, page.HasNext));
        Assert.True(page.Requests <= Buckets + BoundedListRunnerFixture.Budget, $"{page.Requests} range reads");
    }

    [Fact]
    public async Task AnOffsetThatSkipsMoreRowsThanTheBudgetReads_Is400NamingOffset()
    {
        var correlation = "bl-" + Guid.NewGuid().ToString("N")[..8];
        await SeedAsync(20, _ => JobStatus.Completed, correlationId: correlation);
        using var admin = runner.Client("bl-admin", "admin");
        var url = $"/api/jobs?correlationId={correlation}&offset=12&limit=5";
        Assert.Equal(5, JsonNode.Parse(await admin.GetStringAsync(url))!["jobs"]!.AsArray().Count);

        runner.ShortPages.Enabled = true;
        using var response = await admin.GetAsync(url);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Contains("offset", problem.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASeveralTagTotal_IsAbsentWhenItsWalkSpendsTheBudget_AndExactWhenNot()
    {
        var owner = "bl-" + Guid.NewGuid().ToString("N")[..8];
        var (a, b) = ("bl-a-" + owner, "bl-b-" + owner);
        var jobs = await SeedAsync(9, _ => JobStatus.Completed, owner: owner, tags: i => i < 7 ? [a, b] : [a]);
        using var client = runner.Client(owner);
        var url = $"/api/jobs?tag={a}&tag={b}&limit=50";

        var counted = JsonNode.Parse(await client.GetStringAsync(url))!;
        Assert.Equal(7, (long?)counted["pagination"]!["total"]);
        var index = runner.Services.GetRequiredService<JobListIndex>();
        var query = new JobListQuery { Scope = new JobListScope.Tag(a), Tags = [a, b], Owner = owner };
        Assert.Equal(7, await index.CountAsync(query, TagScope.MaxCountedRows, CancellationToken.None));

        runner.ShortPages.Enabled = true; // seven matches now take seven responses: six continuations, past the budget
        var walk = await WalkAsync(client, url);
        Assert.Null(await index.CountAsync(query, TagScope.MaxCountedRows, CancellationToken.None));

        Assert.Null(walk.First["pagination"]!["total"]);
        Assert.Equal(jobs.Take(7).OrderByDescending(j => j.CreatedAt).Select(j => j.Id), walk.Ids);
    }

    private async Task<List<Job>> SeedAsync(int count, Func<int, JobStatus> status, string? correlationId = null, string owner = "bl-owner",
        Func<int, IReadOnlyList<string>>? tags = null)
    {
        // Distinct creation times, so the order asked for is one order; each test's own, far from the others'.
        var start = Start.AddDays(Random.Shared.Next(1, 10_000));
        var jobs = Enumerable.Range(0, count).Select(i => new Job
        {
            Id = Guid.NewGuid().ToString("N"), Type = "demo.steps", Status = status(i), Owner = owner, CorrelationId = correlationId,
            CreatedAt = start.AddSeconds(i), UpdatedAt = start.AddSeconds(i + 1), Tags = tags?.Invoke(i) ?? [],
        }).ToList();
        await runner.SeedAsync(jobs);
        return jobs;
    }

    /// <summary>Follows <c>next</c> from the first page to the last, counting each call's range reads of the list rows.</summary>
    private async Task<Walk> WalkAsync(HttpClient client, string url)
    {
        bool IsListRead(StorageRequest r) => r.Method == "GET" && r.Path.EndsWith("/" + runner.JobsTable + "()", StringComparison.Ordinal)
            && r.Query.Contains(" and RowKey lt ", StringComparison.Ordinal);
        var reads = runner.Faults.Watch(IsListRead);
        var continuations = runner.Faults.Watch(r => IsListRead(r) && r.Query.Contains("NextRowKey", StringComparison.OrdinalIgnoreCase));
        var ids = new List<string>();
        var pages = new List<WalkedPage>();
        JsonNode? first = null;
        string? next = null;
        do
        {
            var (readsBefore, continuationsBefore) = (reads.Count, continuations.Count);
            var page = JsonNode.Parse(await client.GetStringAsync(next is null ? url : url + "&next=" + Uri.EscapeDataString(next)))!;
            first ??= page;
            var rows = page["jobs"]!.AsArray().Select(j => (string)j!["id"]!).ToList();
            ids.AddRange(rows);
            next = (string?)page["pagination"]!["next"];
            pages.Add(new WalkedPage(rows.Count, next is not null, reads.Count - readsBefore, continuations.Count - continuationsBefore));
            Assert.True(pages.Count < 200, "the walk ends");
        }
        while (next is not null);
        return new Walk(ids, pages, first!);
    }

    private sealed record WalkedPage(int Rows, bool HasNext, int Requests, int Continuations);

    private sealed record Walk(List<string> Ids, List<WalkedPage> Pages, JsonNode First);
}
