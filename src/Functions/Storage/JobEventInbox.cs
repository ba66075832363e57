using Azure;
using Azure.Data.Tables;

namespace Jobs.Functions.Storage;

/// <summary>
/// How many events raised on a job (through <c>POST /api/jobs/{id}/instance/raiseEvent/{name}</c>) its orchestration
/// has not consumed yet: one row in the job's partition (RowKey <see cref="RowKey"/>, column <c>Pending</c>), changed
/// under its ETag, so concurrent raises never count past the cap. A raise reserves a place before it sends the event and
/// gives it back when sending failed; a step that waits for an event gives its place back once it has it (issue 31's
/// "wait for a decision"). Until such a step exists nothing consumes events, so a job takes at most the cap, ever.
/// The row goes with the job (<see cref="JobStore.DeleteAsync"/>).
/// </summary>
public sealed class JobEventInbox(StorageClients clients)
{
    public const string RowKey = "events";
    private const string PendingColumn = "Pending";
    private const int MaxAttempts = 10;

    private readonly TableClient _table = clients.JobsTable;

    /// <summary>Takes one place for an event on <paramref name="jobId"/>; false (nothing written) when <paramref name="maxPending"/> are taken.</summary>
    public async Task<bool> TryReserveAsync(string jobId, int maxPending, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var row = await ReadAsync(jobId, cancellationToken);
            var pending = row?.GetInt32(PendingColumn) ?? 0;
            if (pending >= maxPending)
            {
                return false;
            }
            try
            {
                var next = new TableEntity(jobId, RowKey) { [PendingColumn] = pending + 1 };
                if (row is null)
                {
                    await _table.AddEntityAsync(next, cancellationToken);
                }
                else
                {
                    await _table.UpdateEntityAsync(next, row.ETag, TableUpdateMode.Replace, cancellationToken);
                }
                return true;
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412)
            {
                // Another raise changed the count first: read it again.
            }
        }
        throw new InvalidOperationException($"The event count of job {jobId} kept changing under us.");
    }

    /// <summary>Gives one place back: the event was not sent after all, or its job's orchestration consumed it.</summary>
    public async Task ReleaseAsync(string jobId, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var row = await ReadAsync(jobId, cancellationToken);
            var pending = row?.GetInt32(PendingColumn) ?? 0;
            if (row is null || pending <= 0)
            {
                return;
            }
            try
            {
                await _table.UpdateEntityAsync(new TableEntity(jobId, RowKey) { [PendingColumn] = pending - 1 }, row.ETag, TableUpdateMode.Replace, cancellationToken);
                return;
            }
            catch (RequestFailedException ex) when (ex.Status is 404 or 412)
            {
                // Changed (or removed with its job) meanwhile: read it again.
            }
        }
        throw new InvalidOperationException($"The event count of job {jobId} kept changing under us.");
    }

    private async Task<TableEntity?> ReadAsync(string jobId, CancellationToken cancellationToken)
    {
        var response = await _table.GetEntityIfExistsAsync<TableEntity>(jobId, RowKey, cancellationToken: cancellationToken);
        return response.HasValue ? response.Value : null;
    }
}
