using Jobs.Functions.Api;
using Jobs.Functions.Model;
using Jobs.Functions.Storage;

namespace Jobs.UnitTests.Api;

public sealed class JobListLimitsTests
{
    private static readonly string[] KnownTypes = ["demo.fanout", "demo.steps", "jobs.bulk", "jobs.export-csv"];

    [Fact]
    public void CheckFilter_KnownValuesUpToTheCap_Pass()
    {
        Assert.Null(JobListLimits.CheckFilter("type", [.. Enumerable.Repeat("demo.steps", JobListLimits.MaxFilterValues)], KnownTypes));
        Assert.Null(JobListLimits.CheckFilter("type", [], KnownTypes));
    }

    [Fact]
    public void CheckFilter_OneValueTooMany_NamesTheParameter()
    {
        var problem = JobListLimits.CheckFilter("status", [.. Enumerable.Repeat("completed", JobListLimits.MaxFilterValues + 1)], ["completed"]);
        Assert.Equal("status", problem?.Field);
        Assert.Contains($"at most {JobListLimits.MaxFilterValues}", problem!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckFilter_UnknownValue_NamesTheParameterAndTheKnownValues()
    {
        var problem = JobListLimits.CheckFilter("type", ["demo.steps", "t0"], KnownTypes);
        Assert.Equal("type", problem?.Field);
        Assert.Contains("'t0'", problem!.Message, StringComparison.Ordinal);
        Assert.Contains("demo.steps", problem.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(JobOrder.CreatedAt, 64, 0, null)]       // one query per partition
    [InlineData(JobOrder.Status, 16, 0, null)]          // 9 statuses × 16 = 144: exactly the cap
    [InlineData(JobOrder.Status, 32, 0, "orderBy")]     // 9 × 32 = 288, no filter to narrow it
    [InlineData(JobOrder.Status, 32, 4, null)]          // 4 × 32 = 128
    [InlineData(JobOrder.Status, 32, 5, "status")]      // 5 × 32 = 160
    [InlineData(JobOrder.Type, 64, 0, "orderBy")]       // 4 known types × 64 = 256
    [InlineData(JobOrder.Type, 64, 2, null)]            // 2 × 64 = 128
    [InlineData(JobOrder.Type, 64, 3, "type")]          // 3 × 64 = 192
    public void CheckCost_PlannedQueriesOverTheCap_NameTheParameterThatMultipliesThem(JobOrder order, int partitions, int values, string? parameter)
    {
        var query = new JobListQuery
        {
            Scope = new JobListScope.All(),
            OrderBy = order,
            Statuses = order == JobOrder.Status ? Enum.GetValues<JobStatus>().Take(values).ToHashSet() : new HashSet<JobStatus>(),
            Types = order == JobOrder.Type ? KnownTypes.Take(values).ToHashSet() : new HashSet<string>(),
            KnownTypes = KnownTypes,
        };

        Assert.Equal(parameter, JobListLimits.CheckCost(query, partitions)?.Field);
    }
}
