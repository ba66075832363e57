using System.Runtime.CompilerServices;
using Azure;
using Jobs.Functions.Model;

namespace Jobs.Functions.Storage;

/// <summary>
/// How a job record is stored, beside what it says: the ETag it was read or written with, the number of its last
/// status change (<see cref="Seq"/>: 1 for its creation, one more per change) and when that change happened. The
/// domain <see cref="Job"/> carries none of this; the store attaches a stamp to each record instance it reads or
/// writes, so a caller that hands the same instance back gets a write under that ETag without a read, and a caller
/// that hands back a copy (a <c>with</c>) has it read afresh.
/// </summary>
/// <param name="ETag">The ETag the record was read or written with.</param>
/// <param name="Seq">The number of its last status change.</param>
/// <param name="ChangedAt">When that change happened (the time its "updated" list rows are keyed by).</param>
/// <param name="SettledChangeRow">A change row this process projected everywhere and that is still stored: the next
/// write of the record removes it in its own transaction (the outbox row's work is done).</param>
public sealed record JobStamp(ETag ETag, int Seq, DateTimeOffset ChangedAt, int? SettledChangeRow = null)
{
    private static readonly ConditionalWeakTable<Job, JobStamp> s_stamps = new();

    /// <summary>The stamp of a record instance the store handed out; null for any other instance.</summary>
    public static JobStamp? Of(Job job) => s_stamps.TryGetValue(job, out var stamp) ? stamp : null;

    /// <summary>Records that <paramref name="job"/> (this instance) is stored as <paramref name="stamp"/>.</summary>
    internal static Job Attach(Job job, JobStamp stamp)
    {
        s_stamps.AddOrUpdate(job, stamp);
        return job;
    }
}
