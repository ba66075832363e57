using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Jobs.Functions.Lifecycle;
using Jobs.Functions.Storage;
using Jobs.Functions.Submissions;
using Jobs.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Jobs.IntegrationTests.Hostile;

/// <summary>
/// Issue 25, item 4: one input-size rule (<see cref="SubmissionRules.MaxInputBytes"/> bytes of JSON) for create, draft
/// edit and submit, each refusing with the same 400 naming <c>input</c> and changing nothing.
/// </summary>
[Collection(HostileRunnerCollection.Name)]
public sealed class HostileInputSizeTests(HostileRunnerFixture runner)
{
    private static readonly string Expected = $"must be at most {SubmissionRules.MaxInputBytes} bytes of JSON";

    public static TheoryData<string> OversizedNotes => new()
    {
        new string('y', 57_000), // ~57 KB: more than a Table column holds (was a 500)
        new string('é', 20_000), // 40 KB of UTF-8 in 20,000 characters: a column holds it, the rule does not
    };

    [Theory]
    [MemberData(nameof(OversizedNotes))]
    public async Task Create_InputOverTheCap_Is400NamingInput_AndStoresNothing(string note)
    {
        using var client = runner.Client("size-create-" + Guid.NewGuid().ToString("N")[..8]);
        var before = await StoredState.CaptureAsync(runner);

        using var response = await client.PostAsync("/api/jobs", HostileRequests.Json($$$"""{"type":"{{{EventfulHandler.TypeName}}}","draft":true,"input":{"note":"{{{note}}}"}}"""));

        var problem = await ProblemAssert.IsAsync(response, HttpStatusCode.BadRequest, "input");
        Assert.Contains(Expected, (string?)problem["detail"], StringComparison.Ordinal);
        await before.AssertUnchangedAsync();
    }

    [Theory]
    [MemberData(nameof(OversizedNotes))]
    public async Task DraftEdit_InputOverTheCap_Is400NamingInput_AndLeavesTheDraftUnchanged(string note)
    {
        using var client = runner.Client("size-edit-" + Guid.NewGuid().ToString("N")[..8]);
        var id = await HostileRequests.CreateDraftAsync(client, new { type = EventfulHandler.TypeName, input = new { note = "small" } });
        var before = await StoredState.CaptureAsync(runner);

        using var response = await client.PatchAsync($"/api/jobs/{id}", HostileRequests.Json($$$"""{"input":{"note":"{{{note}}}"}}"""));

        var problem = await ProblemAssert.IsAsync(response, HttpStatusCode.BadRequest, "input");
        Assert.Contains(Expected, (string?)problem["detail"], StringComparison.Ordinal);
        await before.AssertUnchangedAsync();
    }

    /// <summary>A draft stored with an input over the rule (as an edit before the rule could leave one) is not submitted.</summary>
    [Fact]
    public async Task Submit_DraftWhoseInputIsOverTheCap_Is400NamingInput_AndLeavesItADraft()
    {
        using var client = runner.Client("size-submit-" + Guid.NewGuid().ToString("N")[..8]);
        var id = await HostileRequests.CreateDraftAsync(client, new { type = EventfulHandler.TypeName, input = new { note = "small" } });
        var store = runner.Services.GetRequiredService<JobStore>();
        var draft = (await store.GetAsync(id, CancellationToken.None))!;
        // Written as is (é unescaped): 40 KB of UTF-8 in a column that holds it.
        var oversized = JsonDocument.Parse($$"""{"note":"{{new string('é', 20_000)}}"}""").RootElement;
        await store.UpdateAsync(draft, current => JobTransitions.EditDraft(current, oversized, null, 1), CancellationToken.None);
        var before = await StoredState.CaptureAsync(runner);

        using var response = await client.PostAsync($"/api/jobs/{id}/submit", null);

        var problem = await ProblemAssert.IsAsync(response, HttpStatusCode.BadRequest, "input");
        Assert.Contains(Expected, (string?)problem["detail"], StringComparison.Ordinal);
        await before.AssertUnchangedAsync();
        Assert.Equal("draft", (string?)JsonNode.Parse(await client.GetStringAsync($"/api/jobs/{id}/status"))!["status"]);
    }
}
