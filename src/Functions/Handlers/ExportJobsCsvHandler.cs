using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Text;
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

    /// <summary>At most this many rows (up to <see cref="ExportJobsCsvHandler.MaxRows"/>).</summary>
    [Range(1, ExportJobsCsvHandler.MaxRows)]
    public int MaxRows { get; init; } = 10_000;
}

/// <summary>
/// <c>jobs.export-csv</c>: writes the owner's jobs (filtered) as CSV, page by page with progress and a log line per page,
/// to a temporary file and then to the job's artifact <c>jobs.csv</c> (streamed: the CSV is never whole in memory).
/// Result: the artifact's link, row count and size.
/// </summary>
public sealed class ExportJobsCsvHandler(JobListIndex index) : JobHandler<ExportJobsCsvInput>
{
    public const string TypeName = "jobs.export-csv";

    /// <summary>The name of the CSV among the job's artifacts.</summary>
    public const string ArtifactName = "jobs.csv";

    /// <summary>
    /// Most rows one export writes: about 150 MB of CSV at ~150 bytes a row, under the default per-artifact cap (256 MiB,
    /// <c>Jobs:Artifacts:MaxArtifactBytes</c>), and 1,000 list requests, well within the type's 30-minute timeout.
    /// </summary>
    public const int MaxRows = 1_000_000;

    private const int PageSize = 999;

    public override string Type => TypeName;

    public override string Description => "Exports your jobs (optionally filtered by status and type) as a CSV artifact (jobs.csv).";

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
        // Writing the artifact is idempotent (same name, replaced whole), so a retry is safe.
        new("write-csv", WriteCsvAsync),
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

        await using var file = new FileStream(Path.GetTempFileName(), FileMode.Create, FileAccess.ReadWrite, FileShare.None, 64 * 1024,
            FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        var rows = 0;
        await using (var csv = new StreamWriter(file, new UTF8Encoding(false), 64 * 1024, leaveOpen: true) { NewLine = "\n" })
        {
            await csv.WriteLineAsync("id,type,status,createdAt,updatedAt,correlationId,entityType,entityId");
            var pages = 0;
            while (rows < input.MaxRows)
            {
                context.CancellationToken.ThrowIfCancellationRequested();
                var page = await index.ListAsync(query with { Limit = Math.Min(PageSize, input.MaxRows - rows) }, context.CancellationToken);
                foreach (var job in page.Jobs.Where(j => j.Id != context.JobId))
                {
                    await csv.WriteLineAsync(string.Join(',', Csv(job.Id), Csv(job.Type), Csv(job.Status.ToWire()), Csv(Iso(job.CreatedAt)), Csv(Iso(job.UpdatedAt)),
                        Csv(job.CorrelationId), Csv(job.Entity?.Type), Csv(job.Entity?.Id)));
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
        }

        file.Position = 0;
        var artifact = await context.Artifacts.WriteAsync(ArtifactName, file, "text/csv; charset=utf-8");
        await context.LogAsync($"Wrote {rows} rows ({artifact.Bytes} bytes) to the artifact {artifact.Name}.");
        context.AddResultMetadata("artifact", artifact.Name);
        context.AddResultMetadata("rowCount", rows.ToString(CultureInfo.InvariantCulture));
        return new { artifact, rowCount = rows, bytes = artifact.Bytes };
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
}
