using Jobs.Functions.Model;
using Jobs.Functions.Storage;

namespace Jobs.UnitTests.Model;

public sealed class JobAuditEntryTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 7, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Create_LeavesOutDetailsWithNoValue_AndCapsLongOnes()
    {
        var entry = JobAuditEntry.Create("c", At, AuditActions.Terminated, AuditActor.System("reconciler"),
            ("reason", new string('x', 5_000)), ("via", null));

        Assert.Equal(["reason"], entry.Details.Keys);
        Assert.Equal(JobAuditEntry.MaxDetailChars, entry.Details["reason"].Length);
    }

    [Fact]
    public void Create_ByAnActorThroughABulkJob_NamesTheBulkJobInItsDetails_AndNoClientAddress()
    {
        var actor = AuditActor.User("alice", "Alice", "aad", "192.0.2.1").ThroughBulk("b0");

        var entry = JobAuditEntry.Create("c", At, AuditActions.CancelRequested, actor, ("effect", "requested"));

        Assert.Equal("b0", entry.Details["bulkJob"]);
        Assert.Null(entry.Actor.ClientAddress);
        Assert.Equal("alice (bulk b0)", actor.Describe());
    }

    [Fact]
    public void User_KeepsAtMostMaxCharsOfEachField() =>
        Assert.Equal(AuditActor.MaxChars, AuditActor.User("id", new string('n', 1_000), null, null).Name!.Length);

    [Fact]
    public void Entity_RoundTripsAnEntry()
    {
        var entry = JobAuditEntry.Create("0000000000000000001-000001", At, AuditActions.Rerun, AuditActor.User("alice", "Alice", "aad", "2001:db8::7"),
            ("rerunJob", "abc"));

        var row = JobAuditEntity.FromEntry("job", JobAuditLog.RowKey(entry.Cursor), entry);

        Assert.Equal("audit-0000000000000000001-000001", row.RowKey);
        var read = row.ToEntry(entry.Cursor);
        Assert.Equal((entry.Cursor, entry.At, entry.Action, entry.Actor), (read.Cursor, read.At, read.Action, read.Actor));
        Assert.Equal(entry.Details, read.Details);
    }
}
