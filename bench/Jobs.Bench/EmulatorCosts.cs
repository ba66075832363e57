using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;

namespace Jobs.Bench;

/// <summary>
/// What the table emulator's CPU pays per request and per entity (<c>scripts/bench.sh --emulator-costs</c>): on an
/// Azurite of its own, sequential requests of each kind against a partition already holding rows, the emulator's CPU
/// time per request read from /proc. It says which of the app's storage costs the throughput runs' CPU per job follows —
/// the number of requests, or the entities in them — so a change to the write path can be judged before it is made.
/// Writes bench/results/emulator-costs.json and its section of docs/benchmarks.md.
/// </summary>
public static class EmulatorCosts
{
    private const string Partition = "idx-all-00";
    private const int Prefill = 3_000; // about a list bucket's rows at 2,000 jobs
    private const int Requests = 400;
    private const int Rounds = 3;

    private sealed record Kind(string Name, int Entities, Func<TableClient, int, Task> Send);

    public static async Task RunAsync(string repo, string markdownPath)
    {
        var kinds = new Kind[]
        {
            new("point read (1 entity)", 1, (table, _) => table.GetEntityAsync<TableEntity>(Partition, RowKey("pre", 1))),
            new("range read of 50 rows", 50, async (table, _) =>
            {
                await foreach (var page in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {Partition} and RowKey ge {"pre-"}"), maxPerPage: 50).AsPages())
                {
                    break; // the first response only, as a listing's page
                }
            }),
            new("upsert of one entity", 1, (table, i) => table.UpsertEntityAsync(Row(RowKey("one", i)), TableUpdateMode.Replace)),
            new("transaction of 3 entities", 3, (table, i) => table.SubmitTransactionAsync(Upserts("t3", i, 3))),
            new("transaction of 11 entities", 11, (table, i) => table.SubmitTransactionAsync(Upserts("t11", i, 11))),
            new("transaction of 11: 3 deletes, 8 upserts", 11, (table, i) => table.SubmitTransactionAsync(
                Upserts("t11", i, 8).Concat(Enumerable.Range(0, 3).Select(k => // rows of the prefill, 3 different ones each time
                    new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(Partition, RowKey("pre", (i * 3) + k)), ETag.All))))),
        };
        var results = new JsonArray();
        await using var azurite = await Azurite.StartAsync();
        var service = new TableServiceClient(azurite.ConnectionString);
        var round = 0;
        foreach (var kind in kinds)
        {
            var perRequest = new List<double>();
            for (var r = 0; r < Rounds; r++)
            {
                // A table of its own for each round, filled as a list partition is, so every round starts alike.
                var table = service.GetTableClient("costs" + round++);
                await table.CreateAsync();
                foreach (var chunk in Enumerable.Range(0, Prefill).Chunk(100))
                {
                    await table.SubmitTransactionAsync(chunk.Select(i => new TableTransactionAction(TableTransactionActionType.UpsertReplace, Row(RowKey("pre", i)))));
                }
                for (var i = 0; i < 50; i++)
                {
                    await kind.Send(table, Requests + i); // warm: the emulator's code for this kind reaches its optimised tier
                }
                var before = azurite.CpuSeconds();
                for (var i = 0; i < Requests; i++)
                {
                    await kind.Send(table, i);
                }
                perRequest.Add((azurite.CpuSeconds() - before) * 1000 / Requests);
                await table.DeleteAsync();
            }
            var median = perRequest.Order().ElementAt(Rounds / 2);
            Console.WriteLine($"emulator cost: {kind.Name}: {median:F2} ms per request ({string.Join(", ", perRequest.Select(p => p.ToString("F2", CultureInfo.InvariantCulture)))})");
            results.Add(new JsonObject
            {
                ["kind"] = kind.Name,
                ["entities"] = kind.Entities,
                ["msPerRequest"] = Math.Round(median, 2),
                ["rounds"] = new JsonArray([.. perRequest.Select(p => (JsonNode)Math.Round(p, 2))]),
            });
        }
        var report = new JsonObject
        {
            ["date"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
            ["machine"] = $"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}",
            ["command"] = "scripts/bench.sh --emulator-costs",
            ["requests"] = Requests,
            ["rounds"] = Rounds,
            ["prefill"] = Prefill,
            ["kinds"] = results,
        };
        var raw = Path.Combine(repo, "bench", "results", "emulator-costs.json");
        await File.WriteAllTextAsync(raw, report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        await RenderSavedAsync(repo, markdownPath);
    }

    /// <summary>Puts the last run's section (bench/results/emulator-costs.json) back into a freshly rendered report.</summary>
    public static Task RenderSavedAsync(string repo, string markdownPath) => Soak.RenderSavedSectionAsync(repo, markdownPath, "emulator-costs", Render);

    private static string Render(JsonObject r)
    {
        var kinds = r["kinds"]!.AsArray();
        double Ms(string name) => (double)kinds.First(k => (string)k!["kind"]! == name)!["msPerRequest"]!;
        var one = Ms("upsert of one entity");
        var eleven = Ms("transaction of 11 entities");
        var read = Ms("point read (1 entity)");
        var rows = string.Join("\n", kinds.Select(k => string.Create(CultureInfo.InvariantCulture,
            $"| {k!["kind"]} | {k["entities"]} | {k["msPerRequest"]} | {string.Join(", ", k["rounds"]!.AsArray().Select(x => (double)x!))} |")));
        return string.Create(CultureInfo.InvariantCulture, $"""
            ## What the table emulator's CPU pays per request and per entity

            {r["date"]}, {r["machine"]}; `{r["command"]}`. One Azurite of its own, in memory; each kind sent {r["requests"]} times
            one after another (after 50 unmeasured) to a partition already holding {r["prefill"]} rows, on a fresh table in
            each of {r["rounds"]} rounds; the emulator's CPU time (user + system, /proc) per request, median of the rounds.

            | request | entities | CPU ms per request | rounds |
            | --- | ---: | ---: | --- |
            {rows}

            One request costs the emulator {Math.Min(one, read):F1}–{Math.Max(one, read):F1} ms (a write of one entity, a point read);
            each entity more in a transaction about {(eleven - one) / 10:F2} ms. So the app's CPU on its emulator follows the
            number of its requests (14 per 5-step job), and the ~90 entities in them add about {90 * (eleven - one) / 10:F0} ms
            per job: a write path with fewer entities per change would save little CPU here; one with fewer requests would.

            """);
    }

    private static string RowKey(string prefix, int i, int k = 0) =>
        string.Create(CultureInfo.InvariantCulture, $"{prefix}-{i:D6}-{k:D2}");

    private static IEnumerable<TableTransactionAction> Upserts(string prefix, int i, int count) =>
        Enumerable.Range(0, count).Select(k => new TableTransactionAction(TableTransactionActionType.UpsertReplace, Row(RowKey(prefix, i, k))));

    // A list row's shape (JobIndexEntity): the job's id, type, status, owner, times and correlation id.
    private static TableEntity Row(string rowKey) => new(Partition, rowKey)
    {
        ["JobId"] = "0123456789abcdef0123456789abcdef",
        ["Type"] = "demo.steps",
        ["Status"] = "running",
        ["Owner"] = "bench-user",
        ["CorrelationId"] = "order-1234",
        ["CreatedAt"] = DateTimeOffset.UnixEpoch,
        ["UpdatedAt"] = DateTimeOffset.UnixEpoch,
    };
}
