using System.Text.Json;
using Jobs.Functions.Storage;

namespace Jobs.UnitTests.Storage;

/// <summary>A step's output kept for a resume: split over columns, read back whole; one too large is marked, not cut.</summary>
public sealed class StepOutputsTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    [InlineData(29_990)]
    [InlineData(95_000)]
    public void AnOutput_ReadsBackAsItWas(int padding)
    {
        var output = JsonSerializer.SerializeToElement(new { stepsCompleted = 2, padding = new string('x', padding) + "é" });

        var row = StepOutputs.ToEntity("job-1", new KeptStepOutput(1, "step-2", true, output));
        var read = StepOutputs.FromEntity(row);

        Assert.Equal(("job-1", "out-001"), (row.PartitionKey, row.RowKey));
        Assert.All(row.Select(kv => kv.Value).OfType<string>(), value => Assert.True(value.Length <= 30_000));
        Assert.Equal((1, "step-2", true), (read.StepIndex, read.StepName, read.Kept));
        Assert.Equal(output.GetRawText(), read.Output!.Value.GetRawText());
    }

    [Fact]
    public void NoOutput_IsKeptAsNone()
    {
        var read = StepOutputs.FromEntity(StepOutputs.ToEntity("job-1", new KeptStepOutput(0, "step-1", true, null)));
        Assert.Equal((true, (JsonElement?)null), (read.Kept, read.Output));
    }

    [Fact]
    public void AnOutputLargerThanKept_IsMarkedNotKept_WithNothingOfItStored()
    {
        var output = JsonSerializer.SerializeToElement(new string('x', StepOutputs.MaxChars));

        var row = StepOutputs.ToEntity("job-1", new KeptStepOutput(3, "step-4", true, output));

        Assert.Equal((false, (JsonElement?)null), (StepOutputs.FromEntity(row).Kept, StepOutputs.FromEntity(row).Output));
        Assert.DoesNotContain(row.Keys, k => k.StartsWith("Output", StringComparison.Ordinal));
    }
}

/// <summary>A resumed job starts only where its step still is: a deployment that changed its type's steps ends it instead.</summary>
public sealed class ResumePointTests
{
    private static readonly IReadOnlyList<Jobs.Functions.Handlers.JobStepPlan> Steps =
        [new("fetch", Jobs.Functions.Handlers.StepRetryPolicy.Default), new("import", Jobs.Functions.Handlers.StepRetryPolicy.Default)];

    [Theory]
    [InlineData("import", 1, true)]
    [InlineData("fetch", 0, true)]
    [InlineData("import", 0, false)] // moved
    [InlineData("publish", 1, false)] // renamed
    [InlineData("import", 2, false)] // beyond the steps
    public void StillAt_OnlyWhereTheStepStillIs(string step, int index, bool expected) =>
        Assert.Equal(expected, Jobs.Functions.Submissions.JobReruns.StillAt(Steps, new Jobs.Functions.Model.JobResumePoint(step, index)));

    [Fact]
    public void AChangedResumePoint_FailsTheJobAtThatStep_SayingWhy()
    {
        var outcome = Jobs.Functions.Lifecycle.JobOutcome.ResumePointChanged(new Jobs.Functions.Model.JobResumePoint("import", 1));
        Assert.Equal((Jobs.Functions.Model.JobStatus.Failed, "import", "ResumePointChanged"), (outcome.Status, outcome.Error!.Step, outcome.Error.Type));
        Assert.Contains("rerun the original from the start", outcome.Error.Message, StringComparison.Ordinal);
    }
}
