using System.Globalization;
using Azure.Data.Tables;
using Jobs.Functions.Model;

namespace Jobs.Functions.Storage;

/// <summary>
/// A status change of a job, as written to its outbox: what the change owes the rest of the system (list rows, the
/// live-job row, counts, the <c>job-events</c> message) until <see cref="JobProjector"/> has applied it. The row is
/// written in the same entity-group transaction as the record change it describes (PartitionKey = job id, RowKey =
/// <c>job-chg-</c> + <see cref="Seq"/>, so one range query reads the record and its unsettled changes together).
/// Settling needs only the number (the projector brings each partition to the record's state); from, to and when are
/// the change itself, kept for what reads the outbox as a change log (an ending's row stays until retention).
/// </summary>
public sealed record JobChange(int Seq, JobStatus? From, JobStatus To, DateTimeOffset ChangedAt)
{
    public const string RowKeyPrefix = "job-chg-";

    /// <summary>The end of the record-and-changes range: <c>job</c> … <c>job.</c> holds the record and every change row.</summary>
    public const string RangeEnd = "job.";

    public static string RowKey(int seq) => RowKeyPrefix + seq.ToString("D9", CultureInfo.InvariantCulture);

    public TableEntity ToEntity(string jobId)
    {
        var row = new TableEntity(jobId, RowKey(Seq)) { ["Seq"] = Seq, ["To"] = To.ToWire(), ["ChangedAt"] = ChangedAt };
        if (From is { } from)
        {
            row["From"] = from.ToWire();
        }
        return row;
    }

    public static JobChange FromEntity(TableEntity row) => new(
        row.GetInt32("Seq") ?? 0,
        StoredStatus.ParseOptional(row.GetString("From"), $"Change {row.RowKey} of job {row.PartitionKey}"),
        StoredStatus.Parse(row.GetString("To"), $"Change {row.RowKey} of job {row.PartitionKey}"),
        row.GetDateTimeOffset("ChangedAt") ?? default);
}
