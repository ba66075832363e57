using System.Text.Json;
using Jobs.Functions.Handlers;

namespace Jobs.UnitTests.Handlers;

/// <summary>A job's input is parsed and its steps planned once, however much of the job then runs through it (pure logic).</summary>
public sealed class HandlerRunTests
{
    [Fact]
    public async Task Prepare_ParsesAndPlansOnce_ForItsStepCount_ItsStepsAndItsItems()
    {
        var handler = new CountingHandler();
        var run = handler.Prepare(JsonSerializer.SerializeToElement(new { items = 2 }));
        Assert.Equal((1, 1), (handler.Parsed, handler.Planned));

        Assert.Equal(["list", "after"], run.Steps.Select(s => s.Name));
        Assert.True(run.Steps[0].IsParallel);
        Assert.True(run.Has("after"));
        Assert.False(run.Has("missing"));
        Assert.Equal(TimeSpan.FromMinutes(2), run.Timeout);
        using var context = RecordingReporter.Context(new RecordingReporter());
        Assert.Equal(2, ((IReadOnlyList<int>)(await run.RunStepAsync("list", context))!).Count);
        Assert.Equal(10, await run.RunItemAsync("list", JsonSerializer.SerializeToElement(5), context));
        Assert.Equal("done", await run.RunStepAsync("after", context));

        Assert.Equal((1, 1), (handler.Parsed, handler.Planned));
    }

    [Fact]
    public void Prepare_InvalidInput_ThrowsAsParseInputDoes()
    {
        var ex = Assert.Throws<InputValidationException>(() => new CountingHandler().Prepare(JsonSerializer.SerializeToElement(new { items = -1 })));
        Assert.Equal("input.items", Assert.Single(ex.Errors).Field);
    }

    [Fact]
    public void AStepThatIsNotThere_OrNotParallel_Throws()
    {
        var run = new CountingHandler().Prepare(null);
        using var context = RecordingReporter.Context(new RecordingReporter());
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = run.RunStepAsync("missing", context); });
        Assert.Throws<InvalidOperationException>(() => { _ = run.RunItemAsync("after", JsonSerializer.SerializeToElement(1), context); });
    }

    private sealed record CountingInput
    {
        public int Items { get; init; } = 1;
    }

    /// <summary>Counts how often its input is validated and its steps are planned.</summary>
    private sealed class CountingHandler : JobHandler<CountingInput>
    {
        public int Parsed { get; private set; }

        public int Planned { get; private set; }

        public override string Type => "test.counting";

        protected override TimeSpan TimeoutFor(CountingInput input) => TimeSpan.FromMinutes(2);

        protected override IEnumerable<InputError> Validate(CountingInput input)
        {
            Parsed++;
            if (input.Items < 0)
            {
                yield return new InputError("items", "must not be negative");
            }
        }

        protected override IReadOnlyList<JobStep<CountingInput>> Steps(CountingInput input)
        {
            Planned++;
            return
            [
                JobStep<CountingInput>.ForEach<int>("list", (i, _) => [.. Enumerable.Range(1, i.Items)],
                    (_, item, _) => Task.FromResult<object?>(item * 2), maxParallelism: 2),
                new("after", (_, _) => Task.FromResult<object?>("done")),
            ];
        }
    }
}
