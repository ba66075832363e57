using System.Text;
using System.Text.Json;
using Azure.Storage.Queues;
using Jobs.Functions.Storage;
using Jobs.Testing;

namespace Jobs.IntegrationTests.Hostile;

/// <summary>
/// Malformed submissions on the <c>job-submissions</c> queue: every one ends in <c>job-submissions-poison</c> and
/// nothing is stored — no job, no idempotency claim, no orchestration. (<c>Submissions/QueueSubmissionTests</c> shows
/// the common bad messages poisoned while good ones keep flowing.)
/// </summary>
[Collection(QueueRunnerCollection.Name)]
public sealed class HostileQueueTests(QueueRunnerFixture runner)
{
    [Fact]
    public async Task MalformedSubmissions_AllEndInThePoisonQueue_AndStoreNothing()
    {
        var marker = Guid.NewGuid().ToString("N");
        var owner = "svc-" + marker[..8];
        string Json(object value) => JsonSerializer.Serialize(value);
        var messages = new[]
        {
            "null",
            $"[\"{marker}\"]",
            "{\"type\":\"demo.steps\",\"owner\":\"" + owner + "\",\"correlationId\":\"" + marker + "\",\"input\":" + new string('[', 3000) + new string(']', 3000) + "}",
            Json(new { type = "demo.steps", owner = owner + "\u0000admin", correlationId = marker }),
            Json(new { type = "demo.steps", owner = new string('o', 300), correlationId = marker }),
            Json(new { type = "demo.steps", owner, correlationId = marker, id = "0123456789abcdef0123456789abcdef", status = "completed" }),
            Json(new { type = "demo.steps", owner, correlationId = marker, draft = true }),
            Json(new { type = "demo.steps' or ''='", owner, correlationId = marker }),
        };
        var before = await QuietState.CaptureAsync(runner);

        var submissions = new QueueClient(TestStorage.ConnectionString, QueueNames.Submissions);
        foreach (var message in messages)
        {
            await submissions.SendMessageAsync(Convert.ToBase64String(Encoding.UTF8.GetBytes(message)));
        }
        // Bytes that are not UTF-8 at all, base64-encoded as the trigger expects.
        var notUtf8 = Convert.ToBase64String([0xC3, 0x28, 0xFF, .. Encoding.ASCII.GetBytes(marker)]);
        await submissions.SendMessageAsync(notUtf8);

        // The poisoned copy is the message as sent; accept it decoded too, as QueueSubmissionTests does.
        var expected = messages.Select(m => Convert.ToBase64String(Encoding.UTF8.GetBytes(m))).Append(notUtf8).ToHashSet();
        var decoded = messages.ToDictionary(m => m, m => Convert.ToBase64String(Encoding.UTF8.GetBytes(m)));
        var poison = new QueueClient(TestStorage.ConnectionString, QueueNames.SubmissionsPoison);
        var found = new HashSet<string>();
        await Conditions.WaitUntilAsync(async () =>
        {
            foreach (var message in (await poison.PeekMessagesAsync(32)).Value)
            {
                var text = message.Body.ToString();
                if (expected.Contains(text))
                {
                    found.Add(text);
                }
                else if (decoded.TryGetValue(text, out var sent))
                {
                    found.Add(sent);
                }
            }
            return found.Count == expected.Count;
        }, $"only {found.Count} of {expected.Count} malformed submissions reached the poison queue");

        await before.AssertUnchangedAsync();
    }
}
