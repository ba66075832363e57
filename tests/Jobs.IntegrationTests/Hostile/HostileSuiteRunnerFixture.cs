using Jobs.Testing;

namespace Jobs.IntegrationTests.Hostile;

/// <summary>
/// The runner the hostile suite attacks (its catalogue, each attack and the test that shows it refused, is
/// docs/security.md): a task hub and table of its own, so a test can capture everything stored
/// (<see cref="StoredState"/>) and show a refused request changed none of it. One site besides the app's own is allowed
/// to send state changes (<see cref="AllowedOrigin"/>), to show the setting lets it through and nobody else.
/// </summary>
public sealed class HostileSuiteRunnerFixture : RunnerFixture
{
    public const string AllowedOrigin = "https://portal.example.test";

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings => [new("Jobs:Http:AllowedOrigins", AllowedOrigin)];

    /// <inheritdoc cref="QuietState.CaptureAsync"/>
    public Task<StoredState> QuietStateAsync() => QuietState.CaptureAsync(this);
}

[CollectionDefinition(Name)]
[TakesAbout(30)]
public sealed class HostileSuiteCollection : ICollectionFixture<HostileSuiteRunnerFixture>
{
    public const string Name = "hostile-suite-runner";
}
