using Jobs.Testing;

// The longest collections start first ([TakesAbout] on them), so the last minutes do not run one long collection alone.
[assembly: TestCollectionOrderer(LongestFirstCollectionOrderer.TypeName, LongestFirstCollectionOrderer.AssemblyName)]

namespace Jobs.IntegrationTests;

// xunit finds collection definitions only in the test assembly that uses them: the fixtures live in Jobs.Testing, their
// collections here. A collection shares one fixture (one runner) among its classes and runs them one after another.

[CollectionDefinition(Name)]
[TakesAbout(100)]
public sealed class RunnerCollection : ICollectionFixture<RunnerFixture>
{
    public const string Name = "runner";
}

// The same kind of runner, a second one (xunit makes a fixture per collection): its classes run beside RunnerCollection's
// instead of after them. One runner for all of them was the longest chain of the project (135 s of 185 tests).
[CollectionDefinition(Name)]
[TakesAbout(65)]
public sealed class SecondRunnerCollection : ICollectionFixture<RunnerFixture>
{
    public const string Name = "runner-2";
}

[CollectionDefinition(Name)]
public sealed class QueueRunnerCollection : ICollectionFixture<QueueRunnerFixture>
{
    public const string Name = "queue-runner";
}

[CollectionDefinition(Name)]
[TakesAbout(23)]
public sealed class MaintenanceRunnerCollection : ICollectionFixture<MaintenanceRunnerFixture>
{
    public const string Name = "maintenance-runner";
}

[CollectionDefinition(Name)]
public sealed class KeyedRunnerCollection : ICollectionFixture<KeyedRunnerFixture>
{
    public const string Name = "keyed-runner";
}

[CollectionDefinition(Name)]
[TakesAbout(15)]
public sealed class TestHandlersRunnerCollection : ICollectionFixture<TestHandlersRunnerFixture>
{
    public const string Name = "test-handlers-runner";
}

[CollectionDefinition(Name)]
public sealed class TrustedProxyRunnerCollection : ICollectionFixture<TrustedProxyRunnerFixture>
{
    public const string Name = "trusted-proxy-runner";
}

[CollectionDefinition(Name)]
[TakesAbout(10)]
public sealed class StaleStatusRunnerCollection : ICollectionFixture<StaleStatusRunnerFixture>
{
    public const string Name = "stale-status-runner";
}

[CollectionDefinition(Name)]
[TakesAbout(28)]
public sealed class WebhookRunnerCollection : ICollectionFixture<WebhookRunnerFixture>
{
    public const string Name = "webhook-runner";
}

[CollectionDefinition(Name)]
[TakesAbout(26)]
public sealed class ScheduleRunnerCollection : ICollectionFixture<ScheduleRunnerFixture>
{
    public const string Name = "schedule-runner";
}

[CollectionDefinition(Name)]
[TakesAbout(18)]
public sealed class ArtifactRunnerCollection : ICollectionFixture<ArtifactRunnerFixture>
{
    public const string Name = "artifact-runner";
}
