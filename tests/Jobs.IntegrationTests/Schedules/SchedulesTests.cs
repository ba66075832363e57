using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Jobs.Functions.Storage;
using Jobs.Testing;

namespace Jobs.IntegrationTests.Schedules;

/// <summary>
/// Recurring schedules through the API, on the real runner with its schedule timer every second: runs as jobs,
/// overlap policies, pause and resume, who sees what, and bad input that stores nothing.
/// </summary>
[Collection(ScheduleRunnerCollection.Name)]
public sealed class SchedulesTests(ScheduleRunnerFixture runner)
{
    private static string Owner() => "sch-" + Guid.NewGuid().ToString("N")[..10];

    internal static async Task<JsonObject> CreateAsync(HttpClient client, object body)
    {
        using var response = await client.PostAsJsonAsync("/api/schedules", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    internal static async Task<JsonObject> PatchAsync(HttpClient client, string id, object body)
    {
        using var response = await client.PatchAsJsonAsync($"/api/schedules/{id}", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    /// <summary>
    /// The schedule's runs (<c>GET /api/jobs?scheduleId=</c>), each read whole; a run whose list rows are written and its
    /// record not yet (a creation writes them in that order) is left for the next read.
    /// </summary>
    internal static async Task<List<JsonObject>> RunsAsync(HttpClient client, string scheduleId)
    {
        var page = JsonNode.Parse(await client.GetStringAsync($"/api/jobs?scheduleId={scheduleId}&limit=100"))!;
        var runs = new List<JsonObject>();
        foreach (var summary in page["jobs"]!.AsArray())
        {
            using var response = await client.GetAsync($"/api/jobs/{(string)summary!["id"]!}");
            if (response.StatusCode != HttpStatusCode.NotFound)
            {
                runs.Add(JsonNode.Parse(await response.EnsureSuccessStatusCode().Content.ReadAsStringAsync())!.AsObject());
            }
        }
        return runs;
    }

    /// <summary>
    /// The runs of a paused schedule once every listed one has its record (a creation in flight when it was paused writes
    /// its list rows first): the listing and the records then agree.
    /// </summary>
    internal static async Task<List<JsonObject>> SettledRunsAsync(HttpClient client, string scheduleId)
    {
        List<JsonObject> runs = [];
        await Conditions.WaitUntilAsync(async () =>
        {
            var listed = await RunCountAsync(client, scheduleId);
            runs = await RunsAsync(client, scheduleId);
            return runs.Count == listed;
        }, "every listed run has its record");
        return runs;
    }

    /// <summary>How many runs the schedule's listing shows (one range read, no record reads).</summary>
    internal static async Task<int> RunCountAsync(HttpClient client, string scheduleId) =>
        JsonNode.Parse(await client.GetStringAsync($"/api/jobs?scheduleId={scheduleId}&limit=100"))!["jobs"]!.AsArray().Count;

    /// <summary>Every row of the schedules' partition that names <paramref name="owner"/> (records, id rows, due rows).</summary>
    private async Task<List<TableEntity>> StoredRowsAsync(string owner)
    {
        var rows = new List<TableEntity>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {TableKeys.SchedulePartition} and Owner eq {owner}");
        await foreach (var row in runner.Storage.JobsTable.QueryAsync<TableEntity>(filter))
        {
            rows.Add(row);
        }
        return rows;
    }

    public static TheoryData<string, string> BadBodies => new()
    {
        { """{"type":"demo.steps","cron":"every day"}""", "cron" },
        { """{"type":"demo.steps","cron":"0 0 30 2 *"}""", "cron" },
        { """{"type":"demo.steps","cron":"0 0 0 1 1 * 2030"}""", "cron" },
        { """{"type":"demo.steps"}""", "cron" },
        { """{"type":"demo.steps","cron":"0 2 * * *","timeZone":"Mars/Olympus_Mons"}""", "timeZone" },
        { """{"type":"demo.nope","cron":"0 2 * * *"}""", "type" },
        { """{"type":"demo.steps","cron":"0 2 * * *","input":{"steps":0}}""", "input.steps" },
        { """{"type":"demo.steps","cron":"0 2 * * *","overlap":"sometimes"}""", "overlap" },
        { """{"type":"demo.steps","cron":"0 2 * * *","catchUp":"all","catchUpLimit":0}""", "catchUpLimit" },
        { """{"type":"jobs.bulk","cron":"0 2 * * *"}""", "type" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task Create_BadInput_IsAProblemNamingTheField_AndStoresNothing(string body, string field)
    {
        var owner = Owner();
        using var client = runner.Client(owner);
        using var response = await client.PostAsync("/api/schedules", new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(JsonNode.Parse(text)!["errors"]!.AsArray(), e => (string?)e!["field"] == field);
        Assert.Empty(await StoredRowsAsync(owner));
        Assert.Empty(JsonNode.Parse(await client.GetStringAsync("/api/schedules"))!["schedules"]!.AsArray());
    }

    [Fact]
    public async Task Update_BadInput_IsAProblemNamingTheField_AndChangesNothing()
    {
        var owner = Owner();
        using var client = runner.Client(owner);
        var created = await CreateAsync(client, new { type = "demo.steps", input = new { steps = 1 }, cron = "0 2 * * *", timeZone = "Europe/Paris" });
        var id = (string)created["id"]!;
        var before = await StoredRowsAsync(owner);
        foreach (var (body, field) in new[] { ("""{"cron":"0 2 * *"}""", "cron"), ("""{"timeZone":"Nowhere"}""", "timeZone"), ("""{"input":{"steps":99}}""", "input.steps") })
        {
            using var response = await client.PatchAsync($"/api/schedules/{id}", new StringContent(body, Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains(JsonNode.Parse(await response.Content.ReadAsStringAsync())!["errors"]!.AsArray(), e => (string?)e!["field"] == field);
        }
        var after = await StoredRowsAsync(owner);
        Assert.Equal(before.Select(r => (r.RowKey, r.ETag)), after.Select(r => (r.RowKey, r.ETag)));
    }

    [Fact]
    public async Task Schedule_OwnerManagesIt_OthersGet404_AdminsSeeAll_AndDeleteRemovesItsRows()
    {
        var owner = Owner();
        using var client = runner.Client(owner);
        using var other = runner.Client(Owner());
        using var admin = runner.Client(Owner(), "admin");
        var created = await CreateAsync(client, new { type = "demo.steps", input = new { steps = 1 }, cron = "30 2 * * *", timeZone = "Europe/Paris" });
        var id = (string)created["id"]!;
        Assert.Equal("skip", (string?)created["overlap"]);
        Assert.Equal("latest", (string?)created["catchUp"]);

        var read = JsonNode.Parse(await client.GetStringAsync($"/api/schedules/{id}"))!;
        var next = read["nextRuns"]!.AsArray();
        Assert.Equal(5, next.Count);
        // Wall-clock 02:30 in Paris, at the offset of each date (the spring change moves one to 03:00).
        Assert.All(next, t => Assert.Matches(@"T0[23]:[03]0:00\+0[12]:00$", (string)t!["local"]!));
        Assert.Empty(read["recentRuns"]!.AsArray());

        foreach (var (method, body) in new[] { ("GET", null), ("PATCH", """{"paused":true}"""), ("DELETE", null) })
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), $"/api/schedules/{id}")
            {
                Content = body is null ? null : new StringContent(body, Encoding.UTF8, "application/json"),
            };
            using var response = await other.SendAsync(request);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }
        Assert.Empty(JsonNode.Parse(await other.GetStringAsync("/api/schedules"))!["schedules"]!.AsArray());
        using (var forbidden = await other.GetAsync($"/api/schedules?owner={owner}"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        }
        Assert.Single(JsonNode.Parse(await admin.GetStringAsync($"/api/schedules?owner={owner}"))!["schedules"]!.AsArray(), s => (string?)s!["id"] == id);
        Assert.False((bool)JsonNode.Parse(await client.GetStringAsync($"/api/schedules/{id}"))!["paused"]!);

        Assert.Equal(3, (await StoredRowsAsync(owner)).Count); // record, id row, due row
        Assert.Equal(HttpStatusCode.OK, (await admin.PatchAsJsonAsync($"/api/schedules/{id}", new { paused = true })).StatusCode);
        Assert.Equal(2, (await StoredRowsAsync(owner)).Count); // paused: no due row
        using (var deleted = await client.DeleteAsync($"/api/schedules/{id}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/schedules/{id}")).StatusCode);
        Assert.Empty(await StoredRowsAsync(owner));
    }

    [Fact]
    public async Task EverySecondSchedule_RunsEachOccurrenceOnce_AsAJobWithItsScheduleId()
    {
        using var client = runner.Client(Owner());
        var id = (string)(await CreateAsync(client, new { type = "demo.steps", input = new { steps = 1 }, cron = "*/2 * * * * *", overlap = "allow" }))["id"]!;
        List<JsonObject> runs = [];
        await Conditions.WaitUntilAsync(async () => (runs = await RunsAsync(client, id)).Count >= 3, "three runs");
        await PatchAsync(client, id, new { paused = true });
        runs = await SettledRunsAsync(client, id);

        var occurrences = runs.Select(r => DateTimeOffset.Parse((string)r["notBefore"]!, System.Globalization.CultureInfo.InvariantCulture)).Order().ToList();
        Assert.Equal(occurrences.Count, occurrences.Distinct().Count());
        Assert.All(occurrences, o => Assert.Equal(0, o.Second % 2));
        // Consecutive: no occurrence between the first and the last went without its run.
        Assert.All(occurrences.Zip(occurrences.Skip(1)), pair => Assert.Equal(TimeSpan.FromSeconds(2), pair.Second - pair.First));
        foreach (var run in runs)
        {
            Assert.Equal(id, (string?)run["scheduleId"]);
            Assert.Equal("schedule", (string?)run["entity"]!["type"]);
            Assert.StartsWith($"schedule:{id}:", (string?)run["idempotencyKey"], StringComparison.Ordinal);
            Assert.True(DateTimeOffset.Parse((string)run["createdAt"]!, System.Globalization.CultureInfo.InvariantCulture)
                >= DateTimeOffset.Parse((string)run["notBefore"]!, System.Globalization.CultureInfo.InvariantCulture), "created before its time");
        }
        // Its audit trail says the scheduler created it, not a person and not "the service".
        var audit = JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{(string)runs[0]["id"]!}/audit"))!["entries"]![0]!;
        Assert.Equal(("created", "system", "scheduler"), ((string?)audit["action"], (string?)audit["actor"]!["kind"], (string?)audit["actor"]!["id"]));
        // The schedule's recent runs are its entity partition's list rows: a run created as the pause landed is listed
        // there once its creation's projection reaches that partition, which may trail the listing read above.
        JsonNode shown = new JsonObject();
        await Conditions.WaitUntilAsync(async () =>
        {
            shown = JsonNode.Parse(await client.GetStringAsync($"/api/schedules/{id}"))!;
            return shown["recentRuns"]!.AsArray().Count == Math.Min(runs.Count, 10);
        }, $"the schedule shows its {Math.Min(runs.Count, 10)} recent runs");
        Assert.Contains(runs, r => (string?)r["id"] == (string?)shown["lastJobId"]);
    }

    [Fact]
    public async Task OverlapSkip_WhileARunIsGoing_SkipsTheOccurrences_SoRunsNeverOverlap()
    {
        using var client = runner.Client(Owner());
        var id = (string)(await CreateAsync(client, new { type = "demo.steps", input = new { steps = 1, delayMs = 3000 }, cron = "* * * * * *", overlap = "skip" }))["id"]!;
        List<JsonObject> runs = [];
        await Conditions.WaitUntilAsync(async () => (runs = await RunsAsync(client, id)).Count(r => (string?)r["status"] == "completed") >= 2, "two completed runs");
        await PatchAsync(client, id, new { paused = true });
        runs = await SettledRunsAsync(client, id);

        var spans = runs.Where(r => r["completedAt"] is not null)
            .Select(r => (Start: DateTimeOffset.Parse((string)r["createdAt"]!, System.Globalization.CultureInfo.InvariantCulture),
                End: DateTimeOffset.Parse((string)r["completedAt"]!, System.Globalization.CultureInfo.InvariantCulture)))
            .OrderBy(s => s.Start).ToList();
        Assert.All(spans.Zip(spans.Skip(1)), pair => Assert.True(pair.Second.Start >= pair.First.End, $"a run created at {pair.Second.Start:O} overlaps one ending at {pair.First.End:O}"));
        Assert.True((long)JsonNode.Parse(await client.GetStringAsync($"/api/schedules/{id}"))!["skippedCount"]! > 0);
    }

    [Fact]
    public async Task OverlapAllow_WhileARunIsGoing_StartsAnotherAnyway()
    {
        using var client = runner.Client(Owner());
        var id = (string)(await CreateAsync(client, new { type = "demo.steps", input = new { steps = 1, delayMs = 4000 }, cron = "* * * * * *", overlap = "allow" }))["id"]!;
        await Conditions.WaitUntilAsync(async () => (await RunsAsync(client, id)).Count(r => (string?)r["status"] is "pending" or "running") >= 2, "two runs live at once");
        await PatchAsync(client, id, new { paused = true });
        Assert.Equal(0, (long)JsonNode.Parse(await client.GetStringAsync($"/api/schedules/{id}"))!["skippedCount"]!);
    }

    [Fact]
    public async Task OverlapQueue_WhileARunIsGoing_HoldsOneOccurrence_AndRunsItWhenThePreviousEnds()
    {
        using var client = runner.Client(Owner());
        var id = (string)(await CreateAsync(client, new { type = "demo.steps", input = new { steps = 1, delayMs = 3000 }, cron = "* * * * * *", overlap = "queue" }))["id"]!;
        List<JsonObject> runs = [];
        await Conditions.WaitUntilAsync(async () => (runs = await RunsAsync(client, id)).Count >= 2, "a second run, after the first ended");
        await PatchAsync(client, id, new { paused = true });
        runs = [.. (await SettledRunsAsync(client, id)).OrderBy(r => (string)r["createdAt"]!, StringComparer.Ordinal)];
        var first = runs[0];
        var second = runs[1];
        var firstEnd = DateTimeOffset.Parse((string)first["completedAt"]!, System.Globalization.CultureInfo.InvariantCulture);
        // The held occurrence came during the first run and was created once it ended, with its own (earlier) time.
        Assert.True(DateTimeOffset.Parse((string)second["notBefore"]!, System.Globalization.CultureInfo.InvariantCulture) < firstEnd);
        Assert.True(DateTimeOffset.Parse((string)second["createdAt"]!, System.Globalization.CultureInfo.InvariantCulture) >= firstEnd);
    }

    [Fact]
    public async Task Pause_StopsRuns_WhileAnotherScheduleKeepsFiring_AndResume_StartsThemAgain()
    {
        using var client = runner.Client(Owner());
        var paused = (string)(await CreateAsync(client, new { type = "demo.steps", input = new { steps = 1 }, cron = "* * * * * *", overlap = "allow" }))["id"]!;
        await Conditions.WaitUntilAsync(async () => (await RunsAsync(client, paused)).Count >= 1, "a first run");
        await PatchAsync(client, paused, new { paused = true });
        var before = (await SettledRunsAsync(client, paused)).Count;
        Assert.Empty(JsonNode.Parse(await client.GetStringAsync($"/api/schedules/{paused}"))!["nextRuns"]!.AsArray());

        // Another schedule running three times shows the timer ran on: the paused one made nothing meanwhile.
        var control = (string)(await CreateAsync(client, new { type = "demo.steps", input = new { steps = 1 }, cron = "* * * * * *", overlap = "allow" }))["id"]!;
        await Conditions.WaitUntilAsync(async () => (await RunsAsync(client, control)).Count >= 3, "three runs of the control schedule");
        await PatchAsync(client, control, new { paused = true });
        Assert.Equal(before, (await SettledRunsAsync(client, paused)).Count);

        var resumedAt = DateTimeOffset.UtcNow;
        var resumed = await PatchAsync(client, paused, new { paused = false });
        Assert.Equal(5, resumed["nextRuns"]!.AsArray().Count);
        await Conditions.WaitUntilAsync(async () => (await RunsAsync(client, paused)).Count > before, "a run after resuming");
        await PatchAsync(client, paused, new { paused = true });
        // The pause's occurrences were not caught up: every new run is of a time after the resume.
        var runs = await SettledRunsAsync(client, paused);
        Assert.All(runs.Where(r => DateTimeOffset.Parse((string)r["createdAt"]!, System.Globalization.CultureInfo.InvariantCulture) >= resumedAt),
            r => Assert.True(DateTimeOffset.Parse((string)r["notBefore"]!, System.Globalization.CultureInfo.InvariantCulture) >= resumedAt.AddSeconds(-1)));
    }

    [Fact]
    public async Task ClientKeys_AndEntities_OfTheSchedulesNamespace_AreRefused()
    {
        using var client = runner.Client(Owner());
        using var key = await client.PostAsJsonAsync("/api/jobs", new { type = "demo.steps", idempotencyKey = "schedule:x:y" });
        Assert.Equal(HttpStatusCode.BadRequest, key.StatusCode);
        Assert.Contains("idempotencyKey", await key.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var entity = await client.PostAsJsonAsync("/api/jobs", new { type = "demo.steps", entity = new { type = "schedule", id = "x" } });
        Assert.Equal(HttpStatusCode.BadRequest, entity.StatusCode);
        Assert.Contains("entity.type", await entity.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
