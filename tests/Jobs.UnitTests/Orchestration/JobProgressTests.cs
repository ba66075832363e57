using Jobs.Functions.Orchestration;

namespace Jobs.UnitTests.Orchestration;

public sealed class JobProgressTests
{
    [Theory]
    [InlineData(0, 4, 0)]
    [InlineData(1, 4, 25)]
    [InlineData(3, 4, 75)]
    [InlineData(2, 3, 66)]
    public void AtStepStart_GivesEachStepAnEqualShare(int index, int count, int expected) =>
        Assert.Equal(expected, JobProgress.AtStepStart(index, count));

    [Theory]
    [InlineData(1, 4, 50, 37)]
    [InlineData(3, 4, 100, 100)]
    [InlineData(0, 2, 250, 50)]
    [InlineData(0, 2, -40, 0)]
    [InlineData(9, 2, 100, 100)]
    public void Within_MapsStepPercentIntoTheStepsShare_Clamped(int index, int count, int stepPercent, int expected) =>
        Assert.Equal(expected, JobProgress.Within(index, count, stepPercent));

    [Fact]
    public void Within_NoSteps_IsZero() => Assert.Equal(0, JobProgress.Within(0, 0, 50));

    [Theory]
    [InlineData(40, 30, 40)]
    [InlineData(40, 55, 55)]
    [InlineData(40, 140, 100)]
    [InlineData(-5, -10, 0)]
    public void Advance_NeverGoesDown_AndStaysWithin0To100(int current, int proposed, int expected) =>
        Assert.Equal(expected, JobProgress.Advance(current, proposed));
}
