using System.Net;
using Jobs.Testing;
using static Jobs.IntegrationTests.Hostile.HostileSetup;

namespace Jobs.IntegrationTests.Hostile;

/// <summary>
/// The event stream under attack: garbage <c>Last-Event-ID</c> values, a forged resume point, and a storm of opens
/// past the caller's cap. Streams only read, so nothing stored may change. (<c>Api/EventStreamTests</c> holds the
/// stream's contract, the cap among it.)
/// </summary>
[Collection(HostileSuiteCollection.Name)]
public sealed class HostileEventStreamTests(HostileSuiteRunnerFixture runner)
{
    /// <summary>Jobs:Events:MaxStreamsPerCaller's default, which the hostile runner keeps.</summary>
    private const int Cap = 5;

    [Theory]
    [InlineData("<script>")]
    [InlineData("-1.-")]
    [InlineData("99999999999999999999.-")]
    [InlineData("1.-.end.end")]
    [InlineData("1.-.begin")]
    [InlineData("1.0000000000000000001-000000/../x")]
    [InlineData("1")]
    public async Task LastEventIdGarbage_Is400NamingTheHeader_AndChangesNothing(string lastEventId)
    {
        using var owner = runner.Client(NewUser("sse"));
        var ended = await CompletedJobAsync(owner);
        var before = await runner.QuietStateAsync();

        using var request = Request("GET", $"/api/jobs/{ended}/events");
        request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);
        using var response = await owner.SendAsync(request);

        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("Last-Event-ID", Field(problem));
        await before.AssertUnchangedAsync();
    }

    [Fact]
    public async Task LastEventId_OfAnEnd_Is204_AndAForgedFutureOne_StillEndsTheStream()
    {
        using var owner = runner.Client(NewUser("sse-end"));
        var ended = await CompletedJobAsync(owner);

        using var afterEnd = Request("GET", $"/api/jobs/{ended}/events");
        afterEnd.Headers.Add("Last-Event-ID", "1.-.end");
        using (var response = await owner.SendAsync(afterEnd))
        {
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        }
        // A version from the far future: the stream cannot be told to wait for it — an ended job still sends its end.
        var stream = await SseClient.ReadOnceAsync(owner, $"/api/jobs/{ended}/events", lastEventId: "9000000000000000000.-", timeout: TimeSpan.FromSeconds(20));
        Assert.Equal(HttpStatusCode.OK, stream.Status);
        Assert.Equal("end", stream.Events[^1].Event);
    }

    [Fact]
    public async Task AStormOfOpens_ByOneCaller_ServesExactlyTheCap_TheRestAre429_AndChangesNothing()
    {
        using var owner = runner.Client(NewUser("sse-storm"));
        var draft = await DraftAsync(owner);
        var before = await runner.QuietStateAsync();

        var responses = await Task.WhenAll(Enumerable.Range(0, 4 * Cap).Select(_ =>
            owner.GetAsync($"/api/jobs/{draft}/events", HttpCompletionOption.ResponseHeadersRead)));
        try
        {
            Assert.Equal(Cap, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
            var refused = responses.Where(r => r.StatusCode != HttpStatusCode.OK).ToList();
            Assert.Equal(3 * Cap, refused.Count);
            foreach (var response in refused)
            {
                Assert.Equal("Too many streams", (string?)(await ProblemAsync(response, HttpStatusCode.TooManyRequests))["title"]);
            }
            await before.AssertUnchangedAsync();
        }
        finally
        {
            foreach (var response in responses)
            {
                response.Dispose();
            }
        }
    }
}
