using Jobs.Functions.Handlers;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.Testing;

/// <summary>
/// The runner of the hostile suite: the app's job types and <see cref="EventfulHandler"/>, with a cap of
/// <see cref="MaxPendingEvents"/> raised events per job so the cap is reached in a few requests.
/// </summary>
public sealed class HostileRunnerFixture : RunnerFixture
{
    public const int MaxPendingEvents = 3;

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
        [new("Jobs:RaisedEvents:MaxPendingPerJob", MaxPendingEvents.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    protected override void ConfigureServices(IServiceCollection services) => services.AddJobHandler<EventfulHandler>();
}
