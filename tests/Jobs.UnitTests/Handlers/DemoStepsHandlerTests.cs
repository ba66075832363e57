using System.Text.Json;
using Jobs.Functions.Handlers;

namespace Jobs.UnitTests.Handlers;

public sealed class DemoStepsHandlerTests
{
    private readonly DemoStepsHandler _handler = new();

    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement;

    [Fact]
    public void ParseInput_Missing_UsesDefaults()
    {
        var input = (DemoStepsInput)_handler.ParseInput(null);
        Assert.Equal(5, input.Steps);
        Assert.Equal(5, _handler.PlanSteps(input).Count);
    }

    [Fact]
    public void PlanSteps_FollowsTheStepCount_WithTheHandlersRetryPolicy()
    {
        var plan = _handler.PlanSteps(_handler.ParseInput(Json("""{"steps":3}""")));
        Assert.Equal(["step-1", "step-2", "step-3"], plan.Select(s => s.Name));
        Assert.All(plan, s => Assert.Equal(3, s.Retry.MaxAttempts));
    }

    [Theory]
    [InlineData("""{"steps":0}""", "input.steps")]
    [InlineData("""{"steps":51}""", "input.steps")]
    [InlineData("""{"delayMs":-1}""", "input.delayMs")]
    [InlineData("""{"steps":"five"}""", "input.steps")]
    [InlineData("""{"steps":2,"failAtStep":3}""", "input.failAtStep")]
    [InlineData("""{"unknownSwitch":true}""", "input.unknownSwitch")]
    [InlineData("""[1,2]""", "input")]
    public void ParseInput_Invalid_NamesTheField(string json, string field)
    {
        var ex = Assert.Throws<InputValidationException>(() => _handler.ParseInput(Json(json)));
        Assert.Contains(ex.Errors, e => e.Field == field);
        Assert.DoesNotContain(ex.Errors, e => e.Message.Contains("System.", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunStep_WithDelay_ReportsProgressInQuarters_AndLogs()
    {
        var reporter = new RecordingReporter();
        var input = _handler.ParseInput(Json("""{"steps":2,"delayMs":8}"""));
        using var context = RecordingReporter.Context(reporter);

        var output = await _handler.RunStepAsync("step-1", input, context);

        Assert.Equal([25, 50, 75, 100], reporter.Progress.Select(p => p.Percent));
        Assert.Single(reporter.Logs);
        Assert.Equal(1, JsonSerializer.SerializeToElement(output).GetProperty("stepsCompleted").GetInt32());
    }

    [Fact]
    public async Task RunStep_Flaky_FailsTheFirstAttemptOnly()
    {
        var input = _handler.ParseInput(Json("""{"steps":1,"flaky":true}"""));
        using var first = RecordingReporter.Context(new RecordingReporter(), attempt: 1);
        using var second = RecordingReporter.Context(new RecordingReporter(), attempt: 2);

        await Assert.ThrowsAsync<InvalidOperationException>(() => _handler.RunStepAsync("step-1", input, first));
        var output = await _handler.RunStepAsync("step-1", input, second);

        Assert.Contains("All 1 steps completed", JsonSerializer.Serialize(output), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunStep_FailAtStep_FailsEveryAttemptOfThatStep()
    {
        var input = _handler.ParseInput(Json("""{"steps":3,"failAtStep":2}"""));
        using var step1 = RecordingReporter.Context(new RecordingReporter(), stepIndex: 0);
        using var step2 = RecordingReporter.Context(new RecordingReporter(), stepIndex: 1, attempt: 3);

        await _handler.RunStepAsync("step-1", input, step1);
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => _handler.RunStepAsync("step-2", input, step2));
        Assert.Contains("failAtStep is 2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunStep_CancelObservedThroughProgress_CancelsTheToken()
    {
        var reporter = new RecordingReporter(cancelAfterFirstReport: true);
        var input = _handler.ParseInput(Json("""{"steps":1,"delayMs":40}"""));
        using var context = RecordingReporter.Context(reporter);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _handler.RunStepAsync("step-1", input, context));
        Assert.True(context.CancellationToken.IsCancellationRequested);
        Assert.Single(reporter.Progress);
    }

    [Fact]
    public void RunStep_OutOfRange_Throws()
    {
        var input = _handler.ParseInput(null);
        using var context = RecordingReporter.Context(new RecordingReporter());
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = _handler.RunStepAsync("step-8", input, context); });
    }

    [Fact]
    public void InputSchema_DescribesTheInputFields()
    {
        var schema = _handler.InputSchema.ToJsonString();
        Assert.Contains("\"steps\"", schema, StringComparison.Ordinal);
        Assert.Contains("\"failAtStep\"", schema, StringComparison.Ordinal);
    }
}
