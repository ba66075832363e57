using Jobs.Functions.Handlers;
using Jobs.Testing;

namespace Jobs.UnitTests.Handlers;

/// <summary>What the handler base class offers every job type, whatever its input.</summary>
public sealed class JobHandlerTests
{
    [Fact]
    public void DescribeSteps_DefaultInputValidates_PlansTheStepsOfTheDefaultInput() =>
        Assert.Equal(["step-1", "step-2", "step-3", "step-4", "step-5"], new DemoStepsHandler().DescribeSteps());

    [Fact]
    public void DescribeSteps_RequiredInputField_ReturnsTheDeclaredSteps_WithoutThrowing()
    {
        var handler = new ImportHandler();
        var invalid = Assert.Throws<InputValidationException>(() => handler.ParseInput(null));
        Assert.Contains(invalid.Errors, e => e.Field == "input.source");

        Assert.Equal(["fetch", "import"], handler.DescribeSteps());
    }

    [Fact]
    public void DescribeSteps_RequiredInputField_NothingDeclared_IsEmpty() =>
        Assert.Empty(new UndeclaredImportHandler().DescribeSteps());

    [Fact]
    public void DeclaredSteps_MatchThePlanOfARealInput()
    {
        var handler = new ImportHandler();
        var input = handler.ParseInput(System.Text.Json.JsonDocument.Parse("""{"source":"s3://bucket/file"}""").RootElement);
        Assert.Equal(handler.DescribeSteps(), handler.PlanSteps(input).Select(s => s.Name));
    }
}
