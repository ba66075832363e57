using System.Text.Json;
using Jobs.Functions.Handlers;
using Jobs.Functions.Lifecycle;

namespace Jobs.UnitTests.Lifecycle;

/// <summary>How a job's deadline is computed (pure logic).</summary>
public sealed class JobDeadlineTests
{
    private static readonly DateTimeOffset Submitted = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);

    [Fact]
    public void For_CountsTheTimeoutFromTheSubmission()
    {
        Assert.Equal(Submitted + Timeout, JobDeadline.For(Timeout, Submitted, null));
        // A scheduled start already past counts for nothing.
        Assert.Equal(Submitted + Timeout, JobDeadline.For(Timeout, Submitted, Submitted.AddHours(-1)));
    }

    [Fact]
    public void For_ALaterScheduledStart_CountsFromThatStart()
    {
        var notBefore = Submitted.AddHours(3);
        Assert.Equal(notBefore, JobDeadline.StartAt(notBefore, Submitted));
        Assert.Equal(notBefore + Timeout, JobDeadline.For(Timeout, Submitted, notBefore));
    }

    [Fact]
    public void HasPassed_FromTheDeadlineOn()
    {
        var deadline = Submitted + Timeout;
        Assert.False(JobDeadline.HasPassed(deadline, deadline.AddTicks(-1)));
        Assert.True(JobDeadline.HasPassed(deadline, deadline));
        Assert.True(JobDeadline.HasPassed(deadline, deadline.ToOffset(TimeSpan.FromHours(-5)).AddSeconds(1)));
    }

    [Fact]
    public void TheTimeout_IsTheHandlersForTheJobsInput()
    {
        var handler = new DemoStepsHandler();
        var run = handler.Prepare(JsonSerializer.SerializeToElement(new { steps = 1, timeoutSeconds = 90 }));
        Assert.Equal(Submitted.AddSeconds(90), JobDeadline.For(run.Timeout, Submitted, null));
        Assert.Equal(handler.Timeout, handler.Prepare(null).Timeout);
    }
}
