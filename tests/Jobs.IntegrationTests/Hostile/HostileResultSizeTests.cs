using System.Net;
using System.Net.Http.Json;
using Jobs.Functions.Handlers;
using Jobs.Testing;

namespace Jobs.IntegrationTests.Hostile;

/// <summary>
/// Issue 25, item 5 (work done, then refused): a <c>demo.fanout</c> list whose gathered result could not be stored
/// (<see cref="JobResultLimit.MaxChars"/>) is refused at creation, naming the items, before any item runs.
/// </summary>
[Collection(HostileRunnerCollection.Name)]
public sealed class HostileResultSizeTests(HostileRunnerFixture runner)
{
    [Theory]
    [InlineData(1_000, 1)]  // the attack as found: accepted, then ResultTooLarge after ~300 items had run
    [InlineData(120, 150)]  // fewer items, each long
    public async Task FanOut_WhoseResultCouldNotBeStored_Is400NamingItems_AndStoresNothing(int count, int itemLength)
    {
        using var client = runner.Client("result-" + Guid.NewGuid().ToString("N")[..8]);
        var items = Enumerable.Range(0, count).Select(i => i.ToString("D" + itemLength, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var before = await StoredState.CaptureAsync(runner);

        using var response = await client.PostAsJsonAsync("/api/jobs", new { type = "demo.fanout", input = new { items } });

        var problem = await ProblemAssert.IsAsync(response, HttpStatusCode.BadRequest, "input.items");
        Assert.Contains($"the {JobResultLimit.MaxChars} a job's result may hold", (string?)problem["detail"], StringComparison.Ordinal);
        await before.AssertUnchangedAsync();
    }
}
