using Jobs.Functions.Handlers;

namespace Jobs.UnitTests.Handlers;

public sealed class JobHandlerRegistryTests
{
    [Fact]
    public void Registry_FindsHandlersByType_AndListsNamesInOrder()
    {
        var registry = new JobHandlerRegistry([new DemoStepsHandler()]);
        Assert.True(registry.TryGet("demo.steps", out var handler));
        Assert.IsType<DemoStepsHandler>(handler);
        Assert.Equal(["demo.steps"], registry.TypeNames);
        Assert.False(registry.TryGet("nope", out _));
        Assert.Throws<InvalidOperationException>(() => registry.Get("nope"));
    }

    [Fact]
    public void Registry_RefusesTwoHandlersWithOneType() =>
        Assert.Throws<InvalidOperationException>(() => new JobHandlerRegistry([new DemoStepsHandler(), new DemoStepsHandler()]));

    [Fact]
    public void StepContext_CollectsResultMetadata_AndReadsPreviousOutput()
    {
        var previous = System.Text.Json.JsonDocument.Parse("""{"blobName":"x.csv"}""").RootElement;
        using var context = RecordingReporter.Context(new RecordingReporter(), previous: previous);
        context.AddResultMetadata("rows", "3");
        Assert.Equal("3", context.ResultMetadata["rows"]);
        Assert.Equal("x.csv", context.GetPreviousOutput<Dictionary<string, string>>()!["blobName"]);
    }
}
