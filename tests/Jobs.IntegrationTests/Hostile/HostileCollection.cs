using Jobs.Testing;

namespace Jobs.IntegrationTests.Hostile;

/// <summary>The hostile suite's runner (<see cref="HostileRunnerFixture"/>), shared by its classes one after another.</summary>
[CollectionDefinition(Name)]
public sealed class HostileRunnerCollection : ICollectionFixture<HostileRunnerFixture>
{
    public const string Name = "hostile-runner";
}
