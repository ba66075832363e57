using System.Text.Json;
using Jobs.Functions.Submissions;

namespace Jobs.UnitTests.Submissions;

public sealed class SubmissionFingerprintTests
{
    private static JobSubmission Parse(string json) => JsonSerializer.Deserialize<JobSubmission>(json, Jobs.Functions.Model.JobJson.Strict)!;

    [Fact]
    public void Fingerprint_SameRequest_IsTheSame_WhateverTheKeyAndWhitespace()
    {
        var first = Parse("""{"type":"demo.steps","idempotencyKey":"k1","input":{"steps":2}}""");
        var again = Parse("""{ "type": "demo.steps", "input": { "steps": 2 } }""");

        Assert.Equal(SubmissionFingerprint.Of(first), SubmissionFingerprint.Of(again));
        Assert.Matches("^[0-9a-f]{64}$", SubmissionFingerprint.Of(first));
    }

    [Theory]
    [InlineData("""{"type":"demo.steps","input":{"steps":3}}""")]
    [InlineData("""{"type":"demo.fanout","input":{"steps":2}}""")]
    [InlineData("""{"type":"demo.steps","input":{"steps":2},"draft":true}""")]
    [InlineData("""{"type":"demo.steps","input":{"steps":2},"correlationId":"c"}""")]
    [InlineData("""{"type":"demo.steps","input":{"steps":2},"entity":{"type":"release","id":"1"}}""")]
    [InlineData("""{"type":"demo.steps","input":{"steps":2},"notBefore":"2030-01-01T00:00:00Z"}""")]
    [InlineData("""{"type":"demo.steps","input":{"steps":2},"owner":"someone"}""")]
    public void Fingerprint_AnyOtherField_Differs(string other)
    {
        var first = Parse("""{"type":"demo.steps","input":{"steps":2}}""");

        Assert.NotEqual(SubmissionFingerprint.Of(first), SubmissionFingerprint.Of(Parse(other)));
    }
}
