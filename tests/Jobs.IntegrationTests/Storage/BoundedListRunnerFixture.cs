using Azure.Data.Tables;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;
using Jobs.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.IntegrationTests.Storage;

/// <summary>
/// A runner (five all-jobs buckets, the default) whose listings may follow <see cref="Budget"/> continuations a call, with
/// <see cref="ShortTablePages"/> on its storage clients to make Azurite answer range queries a row at a time as Azure does
/// when a filter scans, and <see cref="StorageFaults"/> to count the requests a call makes. Jobs are seeded as the
/// projector writes their list rows, not run.
/// </summary>
public sealed class BoundedListRunnerFixture : RunnerFixture
{
    public const int Budget = 3;

    public StorageFaults Faults { get; } = new();

    public ShortTablePages ShortPages { get; }

    public string JobsTable => TablePrefix + "Jobs";

    public BoundedListRunnerFixture() => ShortPages = new ShortTablePages { Table = JobsTable };

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
    [
        new("Jobs:Storage:ListContinuationBudget", Budget.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("AzureWebJobs.PurgeOldJobs.Disabled", "true"),
    ];

    protected override void ConfigureServices(IServiceCollection services)
    {
        // The rewrite comes first, so the faults' watch sees the query as sent.
        services.AddSingleton(new StoragePipelinePolicy(ShortPages, Azure.Core.HttpPipelinePosition.PerCall));
        services.AddSingleton(new StoragePipelinePolicy(Faults, Azure.Core.HttpPipelinePosition.PerRetry));
    }

    /// <summary>Writes each job's list rows in its partitions (all-jobs bucket, owner's, tags'), as the projector does.</summary>
    public async Task SeedAsync(IEnumerable<Job> jobs)
    {
        var layout = Services.GetRequiredService<IndexLayout>();
        var rows = jobs.SelectMany(job => layout.PartitionsOf(job).SelectMany(partition => JobIndexEntity.Rows(job, partition, job.UpdatedAt).Select(row => row.ToStored(job.Tags))));
        foreach (var partition in rows.GroupBy(r => r.PartitionKey))
        {
            foreach (var chunk in partition.Chunk(100))
            {
                await Storage.JobsTable.SubmitTransactionAsync(chunk.Select(r => new TableTransactionAction(TableTransactionActionType.UpsertReplace, r)));
            }
        }
    }
}

[CollectionDefinition(Name)]
public sealed class BoundedListRunnerCollection : ICollectionFixture<BoundedListRunnerFixture>
{
    public const string Name = "bounded-list-runner";
}
