using Azure.Data.Tables;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;

namespace Jobs.Testing;

/// <summary>
/// Whether a job's list rows agree with its record: the fault tests and the bench's soak judge projections by this
/// one rule (the bench links this file).
/// </summary>
public static class ProjectionCheck
{
    /// <summary>
    /// Null when <paramref name="rows"/> (the job's rows in one list partition; its live-job row there is not one) are
    /// exactly the four of the record's last status change, each listing the record's status, with the one marker row of
    /// that change (and its birth marker); otherwise what is wrong. <paramref name="job"/> is a record as the store read it (with its stamp).
    /// </summary>
    public static string? ListRowProblem(IndexLayout layout, Job job, string partition, IReadOnlyCollection<TableEntity> rows)
    {
        var stamp = JobStamp.Of(job) ?? throw new ArgumentException("A record read from the store is needed (its stamp says which change it is at).", nameof(job));
        var markers = rows.Where(r => r.RowKey.StartsWith(ProjectionPlan.MarkerPrefix, StringComparison.Ordinal)).ToList();
        rows = [.. rows.Where(r => !IsLiveRow(layout, r) && !markers.Contains(r))];
        var problems = new List<string>();
        string[] expectedMarkers = [ProjectionPlan.BornMarkerRowKey(job.Id), ProjectionPlan.MarkerRowKey(job.Id, new ProjectedState(stamp.Seq, job.Status, stamp.ChangedAt, job.CreatedAt))];
        if (!markers.Select(m => m.RowKey).Order(StringComparer.Ordinal).SequenceEqual(expectedMarkers))
        {
            problems.Add($"markers {string.Join(",", markers.Select(m => m.RowKey))} instead of the birth marker and change {stamp.Seq}'s");
        }
        var expected = JobIndexEntity.Rows(job, partition, stamp.ChangedAt).Select(r => r.RowKey).Order().ToList();
        if (!expected.SequenceEqual(rows.Select(r => r.RowKey).Order()))
        {
            problems.Add($"rows {string.Join(",", rows.Select(r => $"{r.RowKey[..2]}={r.GetString("Status")}"))} instead of the four of the last status change");
        }
        problems.AddRange(rows.Where(r => r.GetString("Status") != job.Status.ToWire())
            .Select(r => $"{r.RowKey[..2]} lists {r.GetString("Status")}, the record says {job.Status.ToWire()}"));
        return problems.Count == 0 ? null : $"{partition}: {string.Join("; ", problems)}";
    }

    /// <summary>Null when <paramref name="counts"/> (of a scope holding only this job) count it once, in its record's status; otherwise what they say.</summary>
    public static string? CountProblem(Job job, JobCounts counts)
    {
        var nonZero = counts.ByKey.Where(c => c.Value != 0).ToList();
        return nonZero is [{ Value: 1 } only] && only.Key == new CountKey(null, job.Type, job.Status) ? null
            : $"counters say {string.Join(", ", nonZero.Select(c => $"{c.Key.Type}/{c.Key.Status.ToWire()}={c.Value}"))} instead of {job.Type}/{job.Status.ToWire()}=1";
    }

    /// <summary>A row of the live-job index (a RowKey family of the all-jobs buckets of <paramref name="layout"/>).</summary>
    public static bool IsLiveRow(IndexLayout layout, TableEntity row) =>
        layout.IsAllJobsPartition(row.PartitionKey) && row.RowKey.StartsWith(TableKeys.ActiveRowKeyPrefix, StringComparison.Ordinal);
}
