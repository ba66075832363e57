using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Text;
using Azure.Storage.Blobs.Models;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;

namespace Jobs.Functions.Handlers;

/// <summary>Input of <see cref="ExportJobsCsvHandler"/>.</summary>
public sealed record ExportJobsCsvInput
{
    /// <summary>Only jobs in this status (wire name, e.g. <c>completed</c>); all when omitted.</summary>
    public string? Status { get; init; }

    /// <summary>Only jobs of this type; all when omitted.</summary>
    [StringLength(128)]
    public string? Type { get; init; }

    /// <summary>At most this many rows.</summary>
    [Range(1, 100_000)]
    public int MaxRows { get; init; } = 10_000;
}

/// <summary>
/// <c>jobs.export-csv</c>: writes the owner's jobs (filtered) as CSV to Blob storage, page by page with progress
/// and a log line per page, then checks the blob. Result: container, blob name, row count and size.
/// </summary>
public sealed class ExportJobsCsvHandler(JobListIndex index, StorageClients clients) : JobHandler<ExportJobsCsvInput>
{
    public const string TypeName = "jobs.export-csv";
    private const int PageSize = 100;

    public override string Type => TypeName;

    public override string Description => "Exports your jobs (optionally filtered by status and type) as a CSV blob.";

    public override IReadOnlyDictionary<string, string> StaticMetadata { get; } = new Dictionary<string, string> { ["operation"] = "export_csv" };

    public override TimeSpan Timeout => TimeSpan.FromMinutes(30);

    protected override IEnumerable<InputError> Validate(ExportJobsCsvInput input)
    {
        if (input.Status is not null && !JobStatusExtensions.TryParseWire(input.Status, out _))
        {
            yield return new InputError("status", $"must be one of {JobStatusExtensions.WireNames}");
        }
    }

    protected override IReadOnlyList<JobStep<ExportJobsCsvInput>> Steps(ExportJobsCsvInput input) =>
    [
        // Writing the blob is idempotent (same name, overwritten), so a retry is safe.
        new("write-csv", WriteCsvAsync),
        new("verify", VerifyAsync),
    ];

    private async Task<object?> WriteCsvAsync(ExportJobsCsvInput input, JobStepContext context)
    {
        var statuses = new HashSet<JobStatus>();
        if (input.Status is not null && JobStatusExtensions.TryParseWire(input.Status, out var status))
        {
            statuses.Add(status);
        }
        var query = new JobListQuery
        {
            Scope = new JobListScope.Owner(context.Owner),
            Statuses = statuses,
            Types = input.Type is null ? new HashSet<string>() : new HashSet<string> { input.Type },
            Limit = PageSize,
        };

        var csv = new StringBuilder("id,type,status,createdAt,updatedAt,correlationId,entityType,entityId\n");
        var rows = 0;
        var pages = 0;
        while (rows < input.MaxRows)
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            var page = await index.ListAsync(query with { Limit = Math.Min(PageSize, input.MaxRows - rows) }, context.CancellationToken);
            foreach (var job in page.Jobs.Where(j => j.Id != context.JobId))
            {
                csv.AppendJoin(',', [Csv(job.Id), Csv(job.Type), Csv(job.Status.ToWire()), Csv(Iso(job.CreatedAt)), Csv(Iso(job.UpdatedAt)),
                    Csv(job.CorrelationId), Csv(job.Entity?.Type), Csv(job.Entity?.Id)]).Append('\n');
                rows++;
            }
            pages++;
            await context.LogAsync($"Exported page {pages}: {rows} rows so far.");
            // The total is unknown up front; report against the row cap, which is an upper bound.
            await context.ReportProgressAsync(page.Next is null ? 100 : (int)(rows * 100L / input.MaxRows), $"{rows} rows exported");
            if (page.Next is null)
            {
                break;
            }
            query = query with { After = page.Next };
        }

        var blobName = $"{context.JobId}.csv";
        var blob = clients.ExportContainer.GetBlobClient(blobName);
        await blob.UploadAsync(BinaryData.FromString(csv.ToString()), new BlobUploadOptions
        {
            HttpHeaders = new BlobHttpHeaders { ContentType = "text/csv; charset=utf-8" },
        }, context.CancellationToken);
        await context.LogAsync($"Wrote {rows} rows to {clients.ExportContainer.Name}/{blobName}.");
        return new ExportWritten(clients.ExportContainer.Name, blobName, rows);
    }

    private async Task<object?> VerifyAsync(ExportJobsCsvInput input, JobStepContext context)
    {
        var written = context.GetPreviousOutput<ExportWritten>()
            ?? throw new InvalidOperationException("The verify step needs the write step's output.");
        var properties = await clients.ExportContainer.GetBlobClient(written.BlobName).GetPropertiesAsync(cancellationToken: context.CancellationToken);
        await context.ReportProgressAsync(100, "Export verified");
        context.AddResultMetadata("blobName", written.BlobName);
        context.AddResultMetadata("rowCount", written.RowCount.ToString(CultureInfo.InvariantCulture));
        return new { written.Container, written.BlobName, written.RowCount, bytes = properties.Value.ContentLength };
    }

    private static string Iso(DateTimeOffset value) => value.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    /// <summary>RFC 4180 quoting; also neutralises leading = + - @ so spreadsheets do not run cell formulas.</summary>
    internal static string Csv(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "";
        }
        if (value[0] is '=' or '+' or '-' or '@')
        {
            value = "'" + value;
        }
        return value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }

    private sealed record ExportWritten(string Container, string BlobName, int RowCount);
}
