using Jobs.Functions.Model;
using Jobs.Functions.Storage;

namespace Jobs.UnitTests.Model;

public sealed class JobTagsTests
{
    [Theory]
    [InlineData("nightly")]
    [InlineData("team:billing")]
    [InlineData("region:eu-west/1")]
    [InlineData("owner:a.b@example.com")]
    [InlineData("v:1+2=3")]
    [InlineData("url:a:b")]
    public void WellFormedTags_AreAccepted(string tag) => Assert.Empty(JobTags.Check([tag], "tags"));

    [Theory]
    [InlineData("has space")]
    [InlineData("semi;colon")]
    [InlineData("comma,separated")]
    [InlineData("name:")]
    [InlineData(":value")]
    [InlineData("ünïcode")]
    [InlineData("")]
    public void MalformedTags_AreRefused_NamingTheElement(string tag) =>
        Assert.Equal("tags[1]", Assert.Single(JobTags.Check(["ok", tag], "tags")).Field);

    [Fact]
    public void ATagOf65Characters_IsRefused_And64Accepted()
    {
        Assert.Empty(JobTags.Check([new string('a', 64)], "tags"));
        Assert.Equal("tags[0]", Assert.Single(JobTags.Check([new string('a', 65)], "tags")).Field);
    }

    [Fact]
    public void ElevenTags_AreRefused_NamingTheList_AndARepeatNamesTheRepeat()
    {
        Assert.Empty(JobTags.Check([.. Enumerable.Range(0, 10).Select(i => $"t{i}")], "tags"));
        Assert.Equal("tags", Assert.Single(JobTags.Check([.. Enumerable.Range(0, 11).Select(i => $"t{i}")], "tags")).Field);
        Assert.Equal("tag[2]", Assert.Single(JobTags.Check(["a", "b", "a"], "tag")).Field);
    }

    [Fact]
    public void AListingByTags_ReadsOneTagsPartition_AndChecksTheOthersOnTheRow()
    {
        var query = new JobListQuery { Scope = new JobListScope.Tag("b"), Tags = ["a", "b", "c'd"] };
        var partition = Assert.Single(new IndexLayout(1).PartitionsOf(query.Scope));

        var filter = JobListIndex.BuildFilter(query, partition);

        Assert.Equal("idx-tag-b", partition);
        Assert.Contains($"{TableKeys.TagColumn("a")} eq true", filter, StringComparison.Ordinal);
        Assert.Contains($"{TableKeys.TagColumn("c'd")} eq true", filter, StringComparison.Ordinal);
        Assert.DoesNotContain(TableKeys.TagColumn("b"), filter, StringComparison.Ordinal);
        Assert.Matches("^Tg[0-9a-f]{16}$", TableKeys.TagColumn("c'd"));
        Assert.True(TableKeys.CountsByOwner(partition));
    }
}
