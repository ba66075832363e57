using Jobs.Functions.Model;
using Jobs.Functions.Storage;

namespace Jobs.UnitTests.Storage;

public sealed class TableKeysTests
{
    [Theory]
    [InlineData("a/b")]
    [InlineData("a\\b")]
    [InlineData("a#b")]
    [InlineData("a?b")]
    [InlineData("tab\there")]
    [InlineData("new\nline")]
    public void Encode_RemovesEveryCharacterTableKeysForbid(string value)
    {
        var key = TableKeys.OwnerIndexPartition(value);
        Assert.DoesNotContain(key, c => c is '/' or '\\' or '#' or '?' || char.IsControl(c));
    }

    [Fact]
    public void Encode_KeepsPartsApart() =>
        Assert.NotEqual(TableKeys.EntityIndexPartition("a-b", "c"), TableKeys.EntityIndexPartition("a", "b-c"));

    [Fact]
    public void IndexRowKey_SortsNewestFirst()
    {
        var day1 = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var day2 = day1.AddDays(1);
        Assert.True(string.CompareOrdinal(TableKeys.IndexRowKey(IndexFamily.CreatedDescending, day2, "a"), TableKeys.IndexRowKey(IndexFamily.CreatedDescending, day1, "a")) < 0);
        Assert.True(string.CompareOrdinal(TableKeys.IndexRowKey(IndexFamily.CreatedAscending, day1, "a"), TableKeys.IndexRowKey(IndexFamily.CreatedAscending, day2, "a")) < 0);
        Assert.StartsWith("ud-", TableKeys.IndexRowKey(IndexFamily.UpdatedDescending, day1, "a"), StringComparison.Ordinal);
    }

    [Fact]
    public void BuildFilter_QuoteLadenValues_StayInsideTheirLiterals()
    {
        var query = new JobListQuery
        {
            Scope = new JobListScope.Owner("x' or PartitionKey ne '"),
            Types = new HashSet<string> { "t' or '1' eq '1" },
            Statuses = new HashSet<JobStatus> { JobStatus.Running, JobStatus.TimedOut },
            Owner = "o'neil",
        };
        var filter = JobListIndex.BuildFilter(query, new IndexLayout(1).PartitionsOf(query.Scope).Single());
        // Quotes are doubled by the SDK's filter builder, so no value can close its literal.
        Assert.Contains("Type eq 't'' or ''1'' eq ''1'", filter, StringComparison.Ordinal);
        Assert.Contains("Owner eq 'o''neil'", filter, StringComparison.Ordinal);
        Assert.Contains("Status eq 'timed_out'", filter, StringComparison.Ordinal);
        Assert.DoesNotContain("PartitionKey ne", filter, StringComparison.Ordinal);
    }

    [Fact]
    public void Phases_OrderByStatus_WalksEachStatusOnce_InTheRequestedDirection()
    {
        var query = new JobListQuery { Scope = new JobListScope.All(), OrderBy = JobOrder.Status, Descending = false };
        var phases = JobListIndex.Phases(query);
        Assert.Equal(Enum.GetValues<Jobs.Functions.Model.JobStatus>().Length, phases.Count); // every status, queued and waiting included
        Assert.Equal("Status eq 'cancelled'", phases[0]);
        Assert.Equal("Status eq 'waiting'", JobListIndex.Phases(query with { Descending = true })[0]);
        Assert.Equal([null], JobListIndex.Phases(query with { OrderBy = JobOrder.UpdatedAt }));
        Assert.Equal(["Type eq 'a'", "Type eq 'b'"], JobListIndex.Phases(query with { OrderBy = JobOrder.Type, KnownTypes = ["b", "a"] }));
    }

    [Fact]
    public void BuildFilter_CreatedWindow_NarrowsTheKeyRange()
    {
        var from = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var filter = JobListIndex.BuildFilter(new JobListQuery { Scope = new JobListScope.All(), CreatedFrom = from, CreatedTo = from.AddDays(1) }, TableKeys.AllIndexPartition(0));
        Assert.Contains($"RowKey ge 'cd-{TableKeys.TimeKey(IndexFamily.CreatedDescending, from.AddDays(1))}'", filter, StringComparison.Ordinal);
        Assert.Contains($"RowKey lt 'cd-{TableKeys.TimeKey(IndexFamily.CreatedDescending, from)}.'", filter, StringComparison.Ordinal);
        var updated = JobListIndex.BuildFilter(new JobListQuery { Scope = new JobListScope.All(), CreatedFrom = from, OrderBy = JobOrder.UpdatedAt }, TableKeys.AllIndexPartition(0));
        Assert.Contains("CreatedAt ge datetime'2026-01-01T00:00:00Z'", updated, StringComparison.Ordinal);
    }
}
