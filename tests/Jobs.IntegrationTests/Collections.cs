using Jobs.Testing;

namespace Jobs.IntegrationTests;

// xunit finds collection definitions only in the test assembly that uses them: the fixtures live in Jobs.Testing, their
// collections here. A collection shares one fixture (one runner) among its classes and runs them one after another.

[CollectionDefinition(Name)]
public sealed class RunnerCollection : ICollectionFixture<RunnerFixture>
{
    public const string Name = "runner";
}

[CollectionDefinition(Name)]
public sealed class QueueRunnerCollection : ICollectionFixture<QueueRunnerFixture>
{
    public const string Name = "queue-runner";
}

[CollectionDefinition(Name)]
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
public sealed class StaleStatusRunnerCollection : ICollectionFixture<StaleStatusRunnerFixture>
{
    public const string Name = "stale-status-runner";
}

[CollectionDefinition(Name)]
public sealed class WebhookRunnerCollection : ICollectionFixture<WebhookRunnerFixture>
{
    public const string Name = "webhook-runner";
}

[CollectionDefinition(Name)]
public sealed class ScheduleRunnerCollection : ICollectionFixture<ScheduleRunnerFixture>
{
    public const string Name = "schedule-runner";
}

[CollectionDefinition(Name)]
public sealed class ArtifactRunnerCollection : ICollectionFixture<ArtifactRunnerFixture>
{
    public const string Name = "artifact-runner";
}
