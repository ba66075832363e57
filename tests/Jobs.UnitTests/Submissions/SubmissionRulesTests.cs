using System.Text.Json;
using Jobs.Functions.Handlers;
using Jobs.Functions.Submissions;

namespace Jobs.UnitTests.Submissions;

public sealed class SubmissionRulesTests
{
    [Theory]
    [InlineData(SubmissionRules.MaxInputBytes - 11, 'y', true)] // {"note":"…"} is the text and 11 bytes: exactly the cap
    [InlineData(SubmissionRules.MaxInputBytes - 10, 'y', false)] // one byte over
    [InlineData(SubmissionRules.MaxInputBytes / 2, 'é', false)] // counted in UTF-8 bytes, not characters
    public void CheckInputSize_CountsUtf8BytesOfTheJson(int length, char fill, bool fits)
    {
        var input = JsonDocument.Parse($$"""{"note":"{{new string(fill, length)}}"}""").RootElement;
        var errors = new List<InputError>();

        SubmissionRules.CheckInputSize(errors, input);

        Assert.Equal(fits ? [] : [new InputError("input", $"must be at most {SubmissionRules.MaxInputBytes} bytes of JSON")], errors);
    }

    [Fact]
    public void CheckInputSize_NoInput_Fits()
    {
        var errors = new List<InputError>();
        SubmissionRules.CheckInputSize(errors, null);
        Assert.Empty(errors);
    }
}
