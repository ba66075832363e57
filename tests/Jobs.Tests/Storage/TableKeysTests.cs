using Jobs.Functions.Model;
using Jobs.Functions.Storage;

namespace Jobs.Tests.Storage;

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
        var older = TableKeys.IndexRowKey(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), "a");
        var newer = TableKeys.IndexRowKey(new DateTimeOffset(2026, 1, 2, 0, 0, 0, TimeSpan.Zero), "a");
        Assert.True(string.CompareOrdinal(newer, older) < 0);
    }

    [Fact]
    public void BuildFilter_QuoteLadenValues_StayInsideTheirLiterals()
    {
        var filter = JobStore.BuildFilter(new JobListQuery
        {
            Scope = new JobListScope.Owner("x' or PartitionKey ne '"),
            Types = new HashSet<string> { "t' or '1' eq '1" },
            Statuses = new HashSet<JobStatus> { JobStatus.Running, JobStatus.TimedOut },
            Owner = "o'neil",
        });
        // Quotes are doubled by the SDK's filter builder, so no value can close its literal.
        Assert.Contains("Type eq 't'' or ''1'' eq ''1'", filter, StringComparison.Ordinal);
        Assert.Contains("Owner eq 'o''neil'", filter, StringComparison.Ordinal);
        Assert.Contains("Status eq 'timed_out'", filter, StringComparison.Ordinal);
        Assert.DoesNotContain("PartitionKey ne", filter, StringComparison.Ordinal);
    }
}
