using Azure.Storage.Blobs;
using Jobs.LocalRunner.Triggers;
using Jobs.Testing;

namespace Jobs.RunnerTests;

/// <summary>
/// The schedule monitor's start-up check and storage, as the host's ScheduleMonitor.CheckPastDueAsync and
/// StorageScheduleMonitor do them (Azure/azure-webjobs-sdk-extensions, src/WebJobs.Extensions/Extensions/Timers/Scheduling).
/// Each test uses a container of its own.
/// </summary>
public sealed class BlobScheduleMonitorTests : IAsyncLifetime
{
    private const string Timer = "Host.Functions.Probe";
    private readonly BlobContainerClient _container = new BlobServiceClient(TestStorage.ConnectionString).GetBlobContainerClient("sm-" + Guid.NewGuid().ToString("N")[..20]);
    private readonly CapturingLogger<BlobScheduleMonitorTests> _log = new();
    private static readonly TimerSchedule Hourly = TimerSchedule.Create("0 0 * * * *", TimeZoneInfo.Utc);
    private static readonly DateTimeOffset Now = new(2025, 6, 2, 12, 20, 0, TimeSpan.Zero);

    private BlobScheduleMonitor Monitor => new(_container, "host", _log);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _container.DeleteIfExistsAsync();

    [Fact]
    public async Task Update_CreatesTheContainer_AndTheStatusReadsBack()
    {
        var status = new ScheduleStatusRecord(Now, Now.AddHours(1), Now);
        await Monitor.UpdateStatusAsync(Timer, status);
        Assert.Equal(status, await Monitor.GetStatusAsync(Timer, CancellationToken.None));
        Assert.True(await _container.GetBlobClient("timers/host/Host.Functions.Probe/status").ExistsAsync());
    }

    [Fact]
    public async Task UnreadableStatus_IsLogged_AndTreatedAsNone()
    {
        await _container.CreateAsync();
        await Monitor.StatusBlob(Timer).UploadAsync(BinaryData.FromString("not json"));
        Assert.Null(await Monitor.GetStatusAsync(Timer, CancellationToken.None));
        Assert.Contains(_log.Entries, e => e.Message.Contains("not readable", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RecordedNextInThePast_IsPastDueByThatMuch()
    {
        var last = Now.AddHours(-3).AddMinutes(-20);
        var (late, status) = await Monitor.CheckPastDueAsync(Timer, Now, Hourly, new ScheduleStatusRecord(last, last.AddHours(1), last));
        Assert.Equal(TimeSpan.FromHours(2).Add(TimeSpan.FromMinutes(20)), late);
        Assert.Equal(last, status.Last);
    }

    [Fact]
    public async Task ChangedSchedule_IsRebasedOnNow_NotReportedPastDue()
    {
        // Written by a half-hourly schedule three hours ago; the timer is hourly now.
        var last = Now.AddHours(-3).AddMinutes(-20);
        var (late, status) = await Monitor.CheckPastDueAsync(Timer, Now, Hourly, new ScheduleStatusRecord(last, last.AddMinutes(30), last));
        Assert.Equal(TimeSpan.Zero, late);
        Assert.True(ScheduleStatusRecord.IsUnset(status.Last));
        Assert.Equal(new DateTimeOffset(2025, 6, 2, 13, 0, 0, TimeSpan.Zero), status.Next);
        Assert.Equal(status, await Monitor.GetStatusAsync(Timer, CancellationToken.None));
    }

    [Fact]
    public async Task NeverFiredTimer_CountsFromLastUpdated()
    {
        // Recorded at 09:10 with Next 10:00 and never fired since: the 10:00 occurrence was missed.
        var updated = new DateTimeOffset(2025, 6, 2, 9, 10, 0, TimeSpan.Zero);
        var (late, _) = await Monitor.CheckPastDueAsync(Timer, Now, Hourly,
            new ScheduleStatusRecord(ScheduleStatusRecord.Unset, updated.AddMinutes(50), updated));
        Assert.Equal(TimeSpan.FromHours(2).Add(TimeSpan.FromMinutes(20)), late);
    }
}
