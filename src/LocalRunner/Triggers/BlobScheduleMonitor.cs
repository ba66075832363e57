using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Logging;

namespace Jobs.LocalRunner.Triggers;

/// <summary>
/// Keeps each timer's <see cref="ScheduleStatusRecord"/> where the host's <c>StorageScheduleMonitor</c> keeps it: the
/// blob <c>azure-webjobs-hosts/timers/{hostId}/{timerName}/status</c> of the app's storage account, as JSON. At
/// start-up <see cref="CheckPastDueAsync"/> applies the host's <c>ScheduleMonitor.CheckPastDueAsync</c>: a recorded next
/// occurrence that has passed makes the timer past due; a schedule changed since the record was written is re-based
/// rather than reported past due.
/// </summary>
public sealed partial class BlobScheduleMonitor(BlobContainerClient container, string hostId, ILogger logger)
{
    public const string ContainerName = "azure-webjobs-hosts";

    public BlobClient StatusBlob(string timerName) => container.GetBlobClient($"timers/{hostId}/{timerName}/status");

    /// <summary>The recorded status, or null if none was ever written (or what is there cannot be read as one).</summary>
    public async Task<ScheduleStatusRecord?> GetStatusAsync(string timerName, CancellationToken cancellationToken)
    {
        BinaryData content;
        try
        {
            content = (await StatusBlob(timerName).DownloadContentAsync(cancellationToken)).Value.Content;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
        try
        {
            return content.ToObjectFromJson<ScheduleStatusRecord>()?.Sanitized();
        }
        catch (JsonException ex)
        {
            LogUnreadableStatus(ex, timerName);
            return null;
        }
    }

    /// <summary>Best effort, as the host's: a failed write is logged, and the timer keeps running.</summary>
    public async Task UpdateStatusAsync(string timerName, ScheduleStatusRecord status)
    {
        var blob = StatusBlob(timerName);
        var content = BinaryData.FromObjectAsJson(status);
        try
        {
            try
            {
                await blob.UploadAsync(content, overwrite: true, CancellationToken.None);
            }
            catch (RequestFailedException ex) when (ex.ErrorCode == "ContainerNotFound")
            {
                await container.CreateIfNotExistsAsync(cancellationToken: CancellationToken.None);
                await blob.UploadAsync(content, overwrite: true, CancellationToken.None);
            }
        }
        catch (Exception ex)
        {
            LogUpdateFailed(ex, timerName);
        }
    }

    /// <summary>How late the timer is (zero when it is not), and the status to go on with, written back if it changed.</summary>
    public async Task<(TimeSpan PastDue, ScheduleStatusRecord Status)> CheckPastDueAsync(
        string timerName, DateTimeOffset now, TimerSchedule schedule, ScheduleStatusRecord? last)
    {
        ScheduleStatusRecord status;
        if (last is null)
        {
            // A new timer: record its next occurrence now, so one missed before it first fires is noticed.
            status = new ScheduleStatusRecord(ScheduleStatusRecord.Unset, schedule.GetNextOccurrence(now), schedule.InZone(now));
            await UpdateStatusAsync(timerName, status);
        }
        else
        {
            // Next was computed from Last (after a run) or from LastUpdated (before the first run).
            var basis = !ScheduleStatusRecord.IsUnset(last.Last) ? last.Last
                : !ScheduleStatusRecord.IsUnset(last.LastUpdated) ? last.LastUpdated
                : now;
            var expected = schedule.GetNextOccurrence(basis);
            status = last;
            if (last.Next != expected)
            {
                // The schedule changed: a next occurrence that is already past would only look missed.
                if (now > expected)
                {
                    expected = schedule.GetNextOccurrence(now);
                    basis = now;
                }
                status = new ScheduleStatusRecord(ScheduleStatusRecord.Unset, expected, schedule.InZone(basis));
                await UpdateStatusAsync(timerName, status);
            }
        }
        return (now > status.Next ? now - status.Next : TimeSpan.Zero, status);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Timer {Timer}: its stored schedule status is not readable; it starts afresh.")]
    private partial void LogUnreadableStatus(Exception exception, string timer);

    [LoggerMessage(Level = LogLevel.Error, Message = "Timer {Timer}: updating its schedule status failed.")]
    private partial void LogUpdateFailed(Exception exception, string timer);
}
