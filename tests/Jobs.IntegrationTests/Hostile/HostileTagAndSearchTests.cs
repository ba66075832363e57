using System.Net;
using Jobs.Testing;

namespace Jobs.IntegrationTests.Hostile;

/// <summary>
/// Bad tags at create, bad tag filters and malformed id-prefix searches (issue 28): each a 400 naming the field or
/// parameter, and nothing stored — checked against everything the runner has stored, on the hostile fixture, where no
/// other test's job is still moving its rows (on the shared runner a job another class left running changes the
/// capture).
/// </summary>
[Collection(HostileRunnerCollection.Name)]
public sealed class HostileTagAndSearchTests(HostileRunnerFixture runner)
{
    private readonly string _run = Guid.NewGuid().ToString("N")[..8];

    public static TheoryData<string, string> BadTags => new()
    {
        { "[\"ok\",\"fine:1\",\"x\",\"" + new string('a', 65) + "\"]", "tags[3]" },
        { "[" + string.Join(",", Enumerable.Range(0, 11).Select(i => $"\"t{i}\"")) + "]", "tags" },
        { "[\"ok\",\"has space\"]", "tags[1]" },
        { "[\"semi;colon\"]", "tags[0]" },
        { "[\"name:\"]", "tags[0]" },
        { "[\"a\",\"a\"]", "tags[1]" },
        { "[\"\"]", "tags[0]" },
        { "[null]", "tags[0]" },
    };

    [Theory]
    [MemberData(nameof(BadTags))]
    public async Task BadTagsOnCreate_AreAProblemNamingTheElement_AndStoreNothing(string tags, string field)
    {
        using var client = runner.Client("tags-bad-" + _run);
        var before = await StoredState.CaptureAsync(runner);

        using var response = await client.PostAsync("/api/jobs", new StringContent(
            $$"""{"type":"demo.steps","input":{"steps":1},"tags":{{tags}}}""", System.Text.Encoding.UTF8, "application/json"));

        await ProblemAssert.IsAsync(response, HttpStatusCode.BadRequest, field);
        await before.AssertUnchangedAsync();
    }

    public static TheoryData<string, string> BadTagFilters => new()
    {
        { "/api/jobs?tag=" + new string('a', 65), "tag[0]" },
        { "/api/jobs?tag=ok&tag=bad%20one", "tag[1]" },
        { "/api/jobs?tag=" + string.Join(",", Enumerable.Range(0, 11).Select(i => $"t{i}")), "tag" },
        { "/api/jobs?tag=ok&entityType=release&entityId=42", "tag" },
        { "/api/jobs?tag=ok&scheduleId=0123456789abcdef0123456789abcdef", "scheduleId" },
    };

    [Theory]
    [MemberData(nameof(BadTagFilters))]
    public async Task BadTagFilter_IsAProblemNamingTheParameter_AndChangesNothing(string url, string field)
    {
        using var client = runner.Client("tags-badq-" + _run);
        var before = await StoredState.CaptureAsync(runner);

        using var response = await client.GetAsync(url);

        await ProblemAssert.IsAsync(response, HttpStatusCode.BadRequest, field);
        await before.AssertUnchangedAsync();
    }

    [Theory]
    [InlineData("/api/jobs?idPrefix=xyz", "idPrefix")]
    [InlineData("/api/jobs?idPrefix=0123456789abcdef0123456789abcdef", "idPrefix")]
    [InlineData("/api/jobs?idPrefix=", "idPrefix")]
    [InlineData("/api/jobs?idPrefix=abc&status=failed", "status")]
    [InlineData("/api/jobs?idPrefix=abc&limit=21", "limit")]
    public async Task AMalformedIdPrefix_IsAProblemNamingTheParameter_AndChangesNothing(string url, string field)
    {
        using var client = runner.Client("prefix-bad-" + _run);
        var before = await StoredState.CaptureAsync(runner);

        using var response = await client.GetAsync(url);

        await ProblemAssert.IsAsync(response, HttpStatusCode.BadRequest, field);
        await before.AssertUnchangedAsync();
    }
}
