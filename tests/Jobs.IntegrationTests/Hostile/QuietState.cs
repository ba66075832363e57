using Azure;
using Azure.Data.Tables;
using Jobs.Testing;

namespace Jobs.IntegrationTests.Hostile;

/// <summary>What a runner has stored, captured once it has stopped moving.</summary>
public static class QuietState
{
    private static readonly string[] Ended = ["Completed", "Failed", "Terminated", "Canceled"];

    /// <summary>
    /// Captures what <paramref name="runner"/> has stored once it has stopped moving: no orchestration of its task hub
    /// still live (an earlier test's job would write on), then three captures alike in a row. That is the state a
    /// hostile request must leave as it is.
    /// </summary>
    public static async Task<StoredState> CaptureAsync(RunnerFixture runner)
    {
        var instances = new TableClient(TestStorage.ConnectionString, runner.HubName + "Instances");
        await Conditions.WaitUntilAsync(async () =>
        {
            try
            {
                await foreach (var instance in instances.QueryAsync<TableEntity>(select: ["RuntimeStatus"]))
                {
                    if (!Ended.Contains(instance.GetString("RuntimeStatus")))
                    {
                        return false;
                    }
                }
                return true;
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
                return true; // no orchestration yet
            }
        }, "an orchestration of the runner never ended");

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
