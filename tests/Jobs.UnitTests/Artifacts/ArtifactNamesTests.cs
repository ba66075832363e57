using Jobs.Functions.Artifacts;

namespace Jobs.UnitTests.Artifacts;

public sealed class ArtifactNamesTests
{
    [Theory]
    [InlineData("jobs.csv")]
    [InlineData("result.json")]
    [InlineData("Report_2026-12-07.v2.pdf")]
    [InlineData("a")]
    public void Problem_AValidName_IsNull(string name) => Assert.Null(ArtifactNames.Problem(name));

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("../secret")]
    [InlineData("a/b")]
    [InlineData("a\\b")]
    [InlineData("a..b")]
    [InlineData(".hidden")]
    [InlineData("-flag")]
    [InlineData("with space")]
    [InlineData("ünïcode")]
    public void Problem_ANameWithPathOrOtherCharacters_SaysWhy(string? name) => Assert.NotNull(ArtifactNames.Problem(name));

    [Fact]
    public void Problem_ANameLongerThanTheLimit_SaysSo()
    {
        Assert.Null(ArtifactNames.Problem(new string('a', ArtifactNames.MaxLength)));
        Assert.Contains("at most 128", ArtifactNames.Problem(new string('a', ArtifactNames.MaxLength + 1)), StringComparison.Ordinal);
    }
}
