using Jobs.Functions.Submissions;

namespace Jobs.UnitTests.Submissions;

public sealed class SubmissionQueueParseTests
{
    [Fact]
    public void Parse_ValidMessage_KeepsEveryField()
    {
        var submission = SubmissionQueueFunction.Parse("""{"type":"demo.steps","owner":"svc-a","correlationId":"c1","idempotencyKey":"k1","input":{"steps":1}}""");
        Assert.Equal("svc-a", submission.Owner);
        Assert.Equal("k1", submission.IdempotencyKey);
    }

    [Theory]
    [InlineData("not json", "message")]
    [InlineData("""{"type":"demo.steps"}""", "owner")]
    [InlineData("""{"type":"demo.steps","owner":"  "}""", "owner")]
    [InlineData("""{"type":"demo.steps","owner":"a","surprise":1}""", "surprise")]
    [InlineData("""{"type":"demo.steps","owner":"a","draft":true}""", "draft")]
    [InlineData("null", "JSON object")]
    public void Parse_Invalid_SaysWhy(string message, string reason)
    {
        var ex = Assert.Throws<InvalidSubmissionException>(() => SubmissionQueueFunction.Parse(message));
        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
    }
}
