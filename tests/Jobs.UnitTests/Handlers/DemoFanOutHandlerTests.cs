using System.Text.Json;
using Jobs.Functions.Handlers;
using Jobs.Functions.Model;

namespace Jobs.UnitTests.Handlers;

/// <summary>demo.fanout refuses a list whose gathered result could not be stored, and the bound it checks holds.</summary>
public sealed class DemoFanOutHandlerTests
{
    private readonly DemoFanOutHandler _handler = new(TimeProvider.System);

    private static JsonElement Items(int count, int length = 1) =>
        JsonSerializer.SerializeToElement(new { items = Enumerable.Range(0, count).Select(i => i.ToString("D" + length, System.Globalization.CultureInfo.InvariantCulture)) });

    [Fact]
    public void ParseInput_TheAttacksThousandItems_IsRefusedNamingItems()
    {
        var ex = Assert.Throws<InputValidationException>(() => _handler.ParseInput(Items(1_000)));
        var error = Assert.Single(ex.Errors);
        Assert.Equal("input.items", error.Field);
        Assert.Contains($"the {JobResultLimit.MaxChars} a job's result may hold", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LargestAcceptedList_GathersAResultWithinTheCap_AndOneMoreItemIsRefused()
    {
        var count = 1;
        while (TryParse(count + 1, out _))
        {
            count++;
        }
        Assert.True(TryParse(count, out var input));
        Assert.InRange(count, 100, 999); // the cap bites well inside the schema's 1..1,000

        // The items' results as the parallel step hands them to the gather step, with real (now) times.
        var now = DateTimeOffset.UtcNow;
        var results = Enumerable.Range(0, count).Select(i => new DemoFanOutItemResult(i, i.ToString("D1", System.Globalization.CultureInfo.InvariantCulture), now.AddTicks(1_234_567), now.AddTicks(7_654_321)));
        var previous = JsonSerializer.SerializeToElement(results, JobJson.Options);
        using var context = new JobStepContext("0123456789abcdef0123456789abcdef", "alice", "gather", 1, 2, 1, previous, new RecordingReporter(), CancellationToken.None);

        var result = await _handler.RunStepAsync("gather", input!, context);

        Assert.InRange(JobResultLimit.CharsOf(result), 1, JobResultLimit.MaxChars);
    }

    private bool TryParse(int count, out object? input)
    {
        try
        {
            input = _handler.ParseInput(Items(count));
            return true;
        }
        catch (InputValidationException)
        {
            input = null;
            return false;
        }
    }
}
