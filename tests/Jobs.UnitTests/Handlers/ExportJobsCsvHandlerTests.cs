using Jobs.Functions.Handlers;

namespace Jobs.UnitTests.Handlers;

public sealed class ExportJobsCsvHandlerTests
{
    [Theory]
    [InlineData(null, "")]
    [InlineData("plain", "plain")]
    [InlineData("a,b", "\"a,b\"")]
    [InlineData("say \"hi\"", "\"say \"\"hi\"\"\"")]
    [InlineData("line\nbreak", "\"line\nbreak\"")]
    [InlineData("=cmd()", "'=cmd()")]
    [InlineData("-1", "'-1")]
    public void Csv_QuotesPerRfc4180_AndDefusesFormulas(string? value, string expected) =>
        Assert.Equal(expected, ExportJobsCsvHandler.Csv(value));
}
