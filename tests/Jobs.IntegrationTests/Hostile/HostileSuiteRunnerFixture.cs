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

/// <summary>What a runner has stored, captured once it has stopped moving.</summary>
public static class QuietState
{
    /// <summary>
    /// Captures what <paramref name="runner"/> has stored once it has stopped moving (three captures alike in a row):
    /// the state a hostile request must leave as it is. Tests wait for their own jobs to end, so this only guards
    /// against a straggling write of an earlier test.
    /// </summary>
    public static async Task<StoredState> CaptureAsync(RunnerFixture runner)
    {
        var state = await StoredState.CaptureAsync(runner);
        var alike = 0;
        await Conditions.WaitUntilAsync(async () =>
        {
            var again = await state.RecaptureAsync();
            alike = state.DifferencesFrom(again).Count == 0 ? alike + 1 : 0;
            state = again;
            return alike >= 2;
        }, "the runner's storage never settled");
        return state;
    }
}

[CollectionDefinition(Name)]
public sealed class HostileSuiteCollection : ICollectionFixture<HostileSuiteRunnerFixture>
{
    public const string Name = "hostile-suite-runner";
}
