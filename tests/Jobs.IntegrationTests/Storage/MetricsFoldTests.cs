using System.Globalization;
using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using Jobs.Functions.Metrics;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;
using Jobs.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Jobs.IntegrationTests.Storage;

/// <summary>
/// The aggregator's roll-ups across two tables, on Azurite, driven directly: a fold commits its counts with the roll-up
/// increments pending on the counter, adds them to the rows of the metrics table, then clears them. A fold stopped after
/// any of those steps, and folds racing on one partition, leave the roll-ups equal to a walk of the jobs — each fact
/// counted once, none lost. The deltas are written as the projector writes them (<see cref="JobCounters.Delta"/>), in a
/// table of this test's own; storage faults strike the folding instance's requests only.
/// </summary>
public sealed class MetricsFoldTests : IAsyncLifetime
{
    private static readonly IndexLayout Layout = new(1);
    private static readonly DateTimeOffset Start = MetricSlots.Floor(DateTimeOffset.UtcNow.AddHours(-3), MetricInterval.Hour);

    private readonly string _prefix = "mf" + Guid.NewGuid().ToString("N")[..10];
    private readonly string _owner = "fold" + Guid.NewGuid().ToString("N")[..8];
    private readonly StorageFaults _faults = new();
    private readonly List<Job> _jobs = [];
    private StorageClients _storage = null!;

    private string Partition => TableKeys.OwnerIndexPartition(_owner);

    public async Task InitializeAsync()
    {
        _storage = Clients(null);
        await _storage.JobsTable.CreateAsync();
        await _storage.MetricsTable.CreateAsync();
    }

    public async Task DisposeAsync()
    {
        await _storage.JobsTable.DeleteAsync();
        await _storage.MetricsTable.DeleteAsync();
    }

    [Theory]
    [InlineData("roll-ups", FaultTiming.BeforeApplied)]
    [InlineData("roll-ups", FaultTiming.AfterApplied)]
    [InlineData("clear", FaultTiming.BeforeApplied)]
    public async Task AFoldStoppedAfterItsCountsCommitted_IsFinishedByTheNextFold_EachFactCountedOnce(string step, FaultTiming timing)
    {
        await WriteJobsAsync(30);
        var counters = Counters(Clients(_faults));
        Func<StorageRequest, bool> strikes = step == "roll-ups" ? IsRollUps : IsPendingCleared;
        _faults.FailNth(strikes, 1, timing);

        await Assert.ThrowsAnyAsync<RequestFailedException>(() => counters.FoldAsync(Partition, CancellationToken.None));

        // The counts are committed with the increments pending on the counter; the roll-ups hold them only if the fault
        // struck after they were added.
        Assert.Equal((1L, true, 0), await CounterStateAsync());
        Assert.Equal(step == "roll-ups" && timing == FaultTiming.BeforeApplied ? "" : Expected(MetricInterval.Minute), await ActualAsync(MetricInterval.Minute));

        // Jobs go on meanwhile; the next fold of the partition applies the pending first, then folds theirs.
        await WriteJobsAsync(20);
        _faults.Clear();
        Assert.True(await counters.FoldAsync(Partition, CancellationToken.None) > 0);

        Assert.Equal((2L, false, 0), await CounterStateAsync());
        Assert.Equal(Expected(MetricInterval.Minute), await ActualAsync(MetricInterval.Minute));
        Assert.Equal(Expected(MetricInterval.Hour), await ActualAsync(MetricInterval.Hour));
    }

    [Fact]
    public async Task AnOwnersPartition_StaysNamedDirty_UntilItsPendingRollUpsAreApplied_ThoughNoNewDeltaComes()
    {
        await WriteJobsAsync(25);
        var dirty = new TableEntity(TableKeys.AllIndexPartition(0), ProjectionPlan.DirtyRowKey(Partition)) { ["Partition"] = Partition };
        await _storage.JobsTable.AddEntityAsync(dirty);
        var counters = Counters(Clients(_faults));
        _faults.FailNth(IsRollUps, 1, FaultTiming.BeforeApplied);

        await Assert.ThrowsAnyAsync<RequestFailedException>(() => counters.FoldAsync(CancellationToken.None)); // a reconciler run

        Assert.Equal((1L, true, 0), await CounterStateAsync());
        Assert.True((await _storage.JobsTable.GetEntityIfExistsAsync<TableEntity>(dirty.PartitionKey, dirty.RowKey)).HasValue, "the partition is still named dirty");

        _faults.Clear();
        await counters.FoldAsync(CancellationToken.None); // the next run: no new delta, only the pending to apply

        Assert.Equal((1L, false, 0), await CounterStateAsync());
        Assert.False((await _storage.JobsTable.GetEntityIfExistsAsync<TableEntity>(dirty.PartitionKey, dirty.RowKey)).HasValue, "the partition is no longer named dirty");
        Assert.Equal(Expected(MetricInterval.Minute), await ActualAsync(MetricInterval.Minute));
    }

    [Fact]
    public async Task TwoInstancesFoldingOnePartitionAtOnce_CountEachFactOnce_AlsoWhenOneLeftItsRollUpsPending()
    {
        var first = Counters(Clients(_faults));
        var second = Counters(Clients(null));
        for (var round = 0; round < 8; round++)
        {
            await WriteJobsAsync(10);
            if (round % 2 == 1)
            {
                // One instance stops after committing its counts: both then meet the pending, and both apply it.
                _faults.FailNth(IsRollUps, 1, round % 4 == 1 ? FaultTiming.BeforeApplied : FaultTiming.AfterApplied);
                await Assert.ThrowsAnyAsync<RequestFailedException>(() => first.FoldAsync(Partition, CancellationToken.None));
                _faults.Clear();
                await WriteJobsAsync(5);
            }
            await Task.WhenAll(first.FoldAsync(Partition, CancellationToken.None), second.FoldAsync(Partition, CancellationToken.None));
        }
        // A fold that lost a race leaves the rest (and maybe a pending) to the next: fold until nothing is left.
        await Conditions.WaitUntilAsync(async () =>
        {
            await second.FoldAsync(Partition, CancellationToken.None);
            var (_, pending, deltas) = await CounterStateAsync();
            return !pending && deltas == 0;
        }, "the partition is folded, nothing pending");

        Assert.Equal(Expected(MetricInterval.Minute), await ActualAsync(MetricInterval.Minute));
        Assert.Equal(Expected(MetricInterval.Hour), await ActualAsync(MetricInterval.Hour));
        var counts = await second.ReadAsync(new JobListScope.Owner(_owner), CancellationToken.None);
        Assert.Equal((long)_jobs.Count, counts.Total(new HashSet<JobStatus>(), new HashSet<string>()));
    }

    [Fact]
    public async Task AFoldWithFacts_CostsOneRollUpTransactionAndOneCounterWrite_BesideItsFoldTransactionAndReads()
    {
        await WriteJobsAsync(10);
        var counters = Counters(Clients(_faults));
        var requests = _faults.Watch(_ => true);

        await counters.FoldAsync(Partition, CancellationToken.None);

        // The roll-up rows the facts fall in, each read once (none is known yet in this run).
        var rows = _jobs.SelectMany(j => new[] { j.CreatedAt, j.StartedAt, j.CompletedAt }).OfType<DateTimeOffset>()
            .SelectMany(at => new[] { MetricSlots.RowKey(MetricInterval.Minute, at), MetricSlots.RowKey(MetricInterval.Hour, at) }).Distinct().Count();
        var made = requests.ToList();
        var summary = string.Join("\n", made);
        Assert.True(made.Count(r => r.EndsWith("/$batch", StringComparison.Ordinal)) == 2, summary); // the fold transaction, the roll-ups
        Assert.True(made.Count(r => r.StartsWith("PUT ", StringComparison.Ordinal) && r.Contains($"RowKey='{TableKeys.CounterRowKey}'", StringComparison.Ordinal)) == 1, summary); // the pending cleared
        Assert.True(made.Count(r => r.StartsWith("GET ", StringComparison.Ordinal) && r.Contains($"/{_prefix}Jobs()", StringComparison.Ordinal)) == 1, summary); // the count rows
        Assert.True(made.Count(r => r.StartsWith("GET ", StringComparison.Ordinal) && r.Contains($"/{_prefix}JobMetrics(PartitionKey=", StringComparison.Ordinal)) == rows, summary);
        // A new hour row: the prune's two range reads (one per family). Nothing else.
        Assert.True(made.Count(r => r.StartsWith("GET ", StringComparison.Ordinal) && r.Contains($"/{_prefix}JobMetrics()", StringComparison.Ordinal)) == 2, summary);
        Assert.True(made.Count == 2 + 1 + 1 + rows + 2, summary);
    }

    /// <summary>A roll-up transaction of the metrics table.</summary>
    private bool IsRollUps(StorageRequest r) => r.IsBatch && r.BodyHas("/" + _prefix + "JobMetrics");

    /// <summary>The write that clears the partition's pending roll-ups (its counter row, replaced on its own).</summary>
    private bool IsPendingCleared(StorageRequest r) =>
        r.Method == "PUT" && r.Path.Contains($"/{_prefix}Jobs(PartitionKey='{Partition}',RowKey='{TableKeys.CounterRowKey}')", StringComparison.Ordinal);

    /// <summary>
    /// Jobs of two types, each leaving the deltas a partition sees of it — created, started, ended (completed, failed,
    /// cancelled, timed out; some cancelled before they started) — with times spread over an hour three hours ago.
    /// </summary>
    private async Task WriteJobsAsync(int count)
    {
        var deltas = new List<TableTransactionAction>();
        for (var i = 0; i < count; i++)
        {
            var n = _jobs.Count;
            var created = Start.AddSeconds(n * 31 % 3_600).AddMilliseconds(n * 7 % 1_000);
            var job = new Job
            {
                Id = Guid.NewGuid().ToString("N"), Type = n % 3 == 0 ? "demo.fanout" : "demo.steps", Status = JobStatus.Pending, Owner = _owner,
                CreatedAt = created, UpdatedAt = created,
            };
            var ended = (n % 4) switch { 0 => JobStatus.Completed, 1 => JobStatus.Failed, 2 => JobStatus.Cancelled, _ => JobStatus.TimedOut };
            var started = n % 5 == 4 ? (DateTimeOffset?)null : created.AddMilliseconds(20 + n * 37 % 5_000);
            var end = (started ?? created).AddMilliseconds(5 + n * 1_311 % 200_000);
            var final = job with { Status = started is null ? JobStatus.Cancelled : ended, StartedAt = started, CompletedAt = end, UpdatedAt = end };
            deltas.Add(Add(job, 1, null, JobStatus.Pending));
            if (started is not null)
            {
                deltas.Add(Add(job with { Status = JobStatus.Running, StartedAt = started }, 2, JobStatus.Pending, JobStatus.Running));
            }
            deltas.Add(Add(final, 3, started is null ? JobStatus.Pending : JobStatus.Running, final.Status));
            _jobs.Add(final);
        }
        foreach (var batch in deltas.Chunk(100))
        {
            await _storage.JobsTable.SubmitTransactionAsync(batch);
        }
    }

    private TableTransactionAction Add(Job job, int seq, JobStatus? from, JobStatus to) => new(TableTransactionActionType.Add,
        JobCounters.Delta(Partition, JobCounters.DeltaRowKey(job.Id, seq), job.Type, job.Owner, from, to, job));

    /// <summary>The partition's fold number, whether roll-ups are pending on its counter, and its unfolded deltas.</summary>
    private async Task<(long FoldSeq, bool Pending, int Deltas)> CounterStateAsync()
    {
        var (seq, pending, deltas) = (0L, false, 0);
        await foreach (var row in _storage.JobsTable.QueryAsync<TableEntity>(
            TableClient.CreateQueryFilter($"PartitionKey eq {Partition} and RowKey ge {TableKeys.CountRowKeyPrefix} and RowKey lt {TableKeys.CountRowKeyEnd}")))
        {
            if (row.RowKey == TableKeys.CounterRowKey)
            {
                (seq, pending) = (row.GetInt64(JobCounters.FoldSeqColumn) ?? 0, PendingMetrics.ReadFrom(row) is not null);
            }
            else
            {
                deltas++;
            }
        }
        return (seq, pending, deltas);
    }

    private string Expected(MetricInterval interval) => MetricsCheck.Expected(_jobs.Select(job => (JsonNode)new JsonObject
    {
        ["type"] = job.Type,
        ["status"] = job.Status.ToWire(),
        ["createdAt"] = Time(job.CreatedAt),
        ["startedAt"] = Time(job.StartedAt),
        ["completedAt"] = Time(job.CompletedAt),
    }), interval);

    private static string? Time(DateTimeOffset? at) => at?.ToString("O", CultureInfo.InvariantCulture);

    private async Task<string> ActualAsync(MetricInterval interval) => MetricsCheck.Actual(await new JobMetrics(_storage, Layout)
        .ReadAsync(new JobListScope.Owner(_owner), interval, Start.AddHours(-1), Start.AddHours(3), new HashSet<string>(), CancellationToken.None));

    /// <summary>
    /// An instance's storage clients on this test's tables. The faults sit before the clients' retries (once per call), so
    /// an injected one reaches the code unretried, while a real broken connection to a busy emulator is retried as the
    /// app's would be (with no retries at all, one such reset failed this test on a loaded machine).
    /// </summary>
    private StorageClients Clients(StorageFaults? faults) => new(
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["AzureWebJobsStorage"] = TestStorage.ConnectionString }).Build(),
        Options.Create(new StorageOptions { TablePrefix = _prefix }),
        new StorageRequestCounter(),
        faults is null ? Array.Empty<StoragePipelinePolicy>() : [new StoragePipelinePolicy(faults, Azure.Core.HttpPipelinePosition.PerCall)]);

    private static JobCounters Counters(StorageClients clients) =>
        new(clients, Layout, Options.Create(new MetricsOptions()), TimeProvider.System, NullLogger<JobCounters>.Instance);
}
