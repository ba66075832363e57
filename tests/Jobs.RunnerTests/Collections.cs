using Jobs.Testing;

// The longest collections start first ([TakesAbout] on them), so the last minutes do not run one long collection alone.
[assembly: TestCollectionOrderer(LongestFirstCollectionOrderer.TypeName, LongestFirstCollectionOrderer.AssemblyName)]

namespace Jobs.RunnerTests;

// xunit finds collection definitions only in the test assembly that uses them: the fixtures live in Jobs.Testing, their
// collections here. A collection shares one fixture (one runner) among its classes and runs them one after another.

[CollectionDefinition(Name)]
[TakesAbout(12)]
public sealed class RunnerCollection : ICollectionFixture<RunnerFixture>
{
    public const string Name = "runner";
}
