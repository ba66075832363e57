using Jobs.Functions.Metrics;
using Jobs.Functions.Model;

namespace Jobs.UnitTests.Metrics;

public sealed class MetricFactTests
{
    private static readonly DateTimeOffset Created = new(2026, 12, 7, 9, 0, 10, TimeSpan.Zero);
    private static readonly DateTimeOffset Started = Created.AddSeconds(3);
    private static readonly DateTimeOffset Ended = Started.AddSeconds(90);

    [Fact]
    public void EachStepOfALifecycle_CountsOnce_TimedByTheRecord()
    {
        Assert.Equal([new MetricFact(MetricKind.Created, Created, null)], MetricFact.Of(null, JobStatus.Pending, Created, null, null));
        Assert.Equal([new MetricFact(MetricKind.Started, Started, 3_000)], MetricFact.Of(JobStatus.Pending, JobStatus.Running, Created, Started, null));
        Assert.Equal([new MetricFact(MetricKind.Failed, Ended, 90_000)], MetricFact.Of(JobStatus.Running, JobStatus.Failed, Created, Started, Ended));
    }

    [Fact]
    public void AProjectionThatSkipsStatuses_CountsEveryStepItCrosses()
    {
        // A partition that last showed pending gets the ending straight away: the start is counted with it.
        Assert.Equal(
            [new MetricFact(MetricKind.Started, Started, 3_000), new MetricFact(MetricKind.Completed, Ended, 90_000)],
            MetricFact.Of(JobStatus.Pending, JobStatus.Completed, Created, Started, Ended));
        // A creation projected late, after the job ended.
        Assert.Equal(3, MetricFact.Of(null, JobStatus.TimedOut, Created, Started, Ended).Count);
    }

    [Fact]
    public void AJobEndedBeforeItStarted_HasNoStartAndNoDuration()
    {
        Assert.Equal([new MetricFact(MetricKind.Cancelled, Ended, null)], MetricFact.Of(JobStatus.Pending, JobStatus.Cancelled, Created, null, Ended));
    }

    [Fact]
    public void ChangesThatCrossNothing_AndRemovals_CountNothing()
    {
        Assert.Empty(MetricFact.Of(JobStatus.Draft, JobStatus.Pending, Created, null, null));
        Assert.Empty(MetricFact.Of(JobStatus.Completed, null, Created, Started, Ended));
        Assert.Empty(MetricFact.Of(JobStatus.Pending, JobStatus.Running, null, Started, null)); // a delta from before metrics: no times
    }

    [Fact]
    public void TypeMetrics_RoundTripsThroughItsStoredForm()
    {
        var metrics = new TypeMetrics();
        foreach (var fact in MetricFact.Of(null, JobStatus.Failed, Created, Started, Ended))
        {
            metrics.Apply(fact);
        }
        var (type, read) = TypeMetrics.FromJson(metrics.ToJson("demo.steps"));
        Assert.Equal("demo.steps", type);
        Assert.Equal((1L, 1L, 1L, 0L), (read.Created, read.Started, read.Failed, read.Completed));
        Assert.Equal(metrics.Duration.Buckets, read.Duration.Buckets);
        Assert.Equal((3_000L, 90_000L), (read.QueueWait.SumMs, read.Duration.MaxMs));
    }
}
