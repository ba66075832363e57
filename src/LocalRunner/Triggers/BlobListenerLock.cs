using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Microsoft.Extensions.Logging;

namespace Jobs.LocalRunner.Triggers;

/// <summary>
/// The host's singleton listener lock for a timer (<c>[Singleton(Mode = SingletonMode.Listener)]</c> on
/// <c>TimerListener</c>, taken by <c>SingletonListener</c> through <c>BlobLeaseDistributedLockManager</c>): a lease on
/// the blob <c>azure-webjobs-hosts/locks/{hostId}/{timerName}.Listener</c>, renewed at half its period while held, so
/// only one host sharing the storage account and host id runs the timer. A lease that is taken (or that another host
/// wins at the same moment) is not acquired. Renewal after a server or transport error is retried sooner; a 4xx, or
/// no successful renewal for a whole period, means the lock is lost and <see cref="Lost"/> is cancelled (the host hands
/// that to its exception handler, which restarts it; the runner stops the timer and tries for the lock again).
/// </summary>
public sealed partial class BlobListenerLock : IAsyncDisposable
{
    private readonly BlobLeaseClient _lease;
    private readonly CancellationTokenSource _lost = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _renewal;

    private BlobListenerLock(BlobLeaseClient lease, TimeSpan period, TimeProvider time, ILogger logger)
    {
        _lease = lease;
        _renewal = RenewAsync(period, time, logger);
    }

    /// <summary>Cancelled when the lock is lost while held.</summary>
    public CancellationToken Lost => _lost.Token;

    /// <summary>The lock, or null when another host holds it.</summary>
    public static async Task<BlobListenerLock?> TryAcquireAsync(
        BlobContainerClient container, string lockBlob, TimeSpan period, TimeProvider time, ILogger logger, CancellationToken cancellationToken)
    {
        var blob = container.GetBlobClient(lockBlob);
        var lease = blob.GetBlobLeaseClient();
        try
        {
            // Look before taking, as the host does, so a held lock costs a read rather than a failed request.
            var state = (await blob.GetPropertiesAsync(cancellationToken: cancellationToken)).Value.LeaseState;
            if (state is LeaseState.Leased or LeaseState.Breaking)
            {
                return null;
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
            try
            {
                await blob.UploadAsync(BinaryData.Empty, overwrite: false, cancellationToken);
            }
            catch (RequestFailedException created) when (created.Status == 409)
            {
                // Another host created it first.
            }
        }
        try
        {
            await lease.AcquireAsync(period, cancellationToken: cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return null;
        }
        return new BlobListenerLock(lease, period, time, logger);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _renewal;
        try
        {
            await _lease.ReleaseAsync(cancellationToken: CancellationToken.None);
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 409)
        {
            // Gone, or someone else's by now: nothing of ours to release.
        }
        _stop.Dispose();
        _lost.Dispose();
    }

    private async Task RenewAsync(TimeSpan period, TimeProvider time, ILogger logger)
    {
        var normal = period / 2;
        var minimum = TimeSpan.FromSeconds(1);
        var interval = normal;
        var renewed = time.GetUtcNow();
        while (true)
        {
            try
            {
                await Task.Delay(interval, time, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            try
            {
                await _lease.RenewAsync(cancellationToken: CancellationToken.None);
                renewed = time.GetUtcNow();
                interval = normal;
                continue;
            }
            catch (RequestFailedException ex) when (ex.Status is >= 400 and < 500)
            {
                LogLost(logger, ex, _lease.Uri.AbsolutePath);
            }
            catch (Exception ex)
            {
                if (time.GetUtcNow() - renewed < period)
                {
                    LogRenewalFailed(logger, ex, _lease.Uri.AbsolutePath);
                    interval = interval / 2 > minimum ? interval / 2 : minimum;
                    continue;
                }
                LogLost(logger, ex, _lease.Uri.AbsolutePath);
            }
            await _lost.CancelAsync();
            return;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Renewing the singleton lock {Lock} failed; retrying sooner.")]
    private static partial void LogRenewalFailed(ILogger logger, Exception exception, string @lock);

    [LoggerMessage(Level = LogLevel.Error, Message = "The singleton lock {Lock} was lost; its timer stops until the lock is taken again.")]
    private static partial void LogLost(ILogger logger, Exception exception, string @lock);
}
