using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Jobs.Functions.Submissions;
using Jobs.Testing;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.IntegrationTests.Hostile;

/// <summary>
/// Issue 25, item 7: an idempotency key reused with another body is a 422 naming the key (IETF httpapi-idempotency-key
/// draft) and stores nothing; the same body still returns the first job, from HTTP and from a redelivered queue message.
/// </summary>
[Collection(HostileRunnerCollection.Name)]
public sealed class HostileIdempotencyTests(HostileRunnerFixture runner)
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task KeyReusedWithAnotherBody_Is422NamingTheKey_AndStoresNothing(bool inHeader)
    {
        using var client = runner.Client("idem-" + Guid.NewGuid().ToString("N")[..8]);
        var key = "order-" + Guid.NewGuid().ToString("N")[..8];
        using var first = await CreateAsync(client, key, inHeader, """{"type":"demo.steps","draft":true,"input":{"steps":2}}""");
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var id = (string)JsonNode.Parse(await first.Content.ReadAsStringAsync())!["id"]!;
        var before = await StoredState.CaptureAsync(runner);

        using var other = await CreateAsync(client, key, inHeader, """{"type":"demo.steps","draft":true,"input":{"steps":3}}""");

        var problem = await ProblemAssert.IsAsync(other, (HttpStatusCode)422, inHeader ? "Idempotency-Key" : "idempotencyKey");
        Assert.Contains($"'{key}'", (string?)problem["detail"], StringComparison.Ordinal);
        await before.AssertUnchangedAsync();

        // The same request (whitespace aside) is still the first job.
        using var same = await CreateAsync(client, key, inHeader, """{ "type": "demo.steps", "draft": true, "input": { "steps": 2 } }""");
        Assert.Equal(HttpStatusCode.Created, same.StatusCode);
        Assert.Equal(id, (string?)JsonNode.Parse(await same.Content.ReadAsStringAsync())!["id"]);
        Assert.Equal("true", same.Headers.GetValues("Idempotent-Replayed").Single());
    }

    /// <summary>
    /// A queue message delivered twice (its key derived from its id) is one job; a message whose key another request
    /// claimed with another body is refused — the queue function turns that into a poison reason — and stores nothing.
    /// </summary>
    [Fact]
    public async Task QueueSubmission_Redelivered_IsOneJob_AndAnotherBodyUnderItsKey_IsRefused()
    {
        var submissions = runner.Services.GetRequiredService<JobSubmissionService>();
        var durable = runner.Services.GetRequiredService<DurableTaskClient>();
        var owner = "idem-queue-" + Guid.NewGuid().ToString("N")[..8];
        // Submitted as drafts, which the service takes as it takes any submission: they write nothing after the call, so
        // what is stored can be compared here and in later tests.
        var messageKey = SubmissionRules.QueueMessageKey(Guid.NewGuid().ToString());
        var message = SubmissionQueueFunction.Parse($$$"""{"type":"demo.steps","owner":"{{{owner}}}","input":{"steps":1}}""") with { Draft = true };

        var delivered = await submissions.CreateAsync(message, owner, messageKey, durable, CancellationToken.None);
        var redelivered = await submissions.CreateAsync(message, owner, messageKey, durable, CancellationToken.None);
        Assert.True(delivered.Created);
        Assert.False(redelivered.Created);
        Assert.Equal(delivered.Job.Id, redelivered.Job.Id);

        var key = "queue-key-" + Guid.NewGuid().ToString("N")[..8];
        var keyed = SubmissionQueueFunction.Parse($$$"""{"type":"demo.steps","owner":"{{{owner}}}","idempotencyKey":"{{{key}}}","input":{"steps":1}}""") with { Draft = true };
        await submissions.CreateAsync(keyed, owner, durable, CancellationToken.None);
        var before = await StoredState.CaptureAsync(runner);
        var reused = keyed with { Input = JsonSerializer.SerializeToElement(new { steps = 2 }) };

        var refused = await Assert.ThrowsAsync<IdempotencyKeyReusedException>(() => submissions.CreateAsync(reused, owner, durable, CancellationToken.None));

        Assert.Equal(key, refused.Key);
        await before.AssertUnchangedAsync();
    }

    private static Task<HttpResponseMessage> CreateAsync(HttpClient client, string key, bool inHeader, string body)
    {
        if (!inHeader)
        {
            body = body.TrimEnd()[..^1] + $$""","idempotencyKey":"{{key}}"}""";
        }
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/jobs") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (inHeader)
        {
            request.Headers.Add("Idempotency-Key", key);
        }
        return client.SendAsync(request);
    }
}
