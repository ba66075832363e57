using System.Text;
using System.Text.Json.Nodes;
using Jobs.Testing;

namespace Jobs.RunnerTests;

/// <summary>
/// What the exporters actually send for a job run end to end, from the runner as a process: the console exporter's
/// output, OTLP/HTTP to a local receiver, and Application Insights' ingestion protocol to a local stand-in. Each of the
/// job's spans (<c>job.create</c>, <c>job.step</c>, <c>job.finish</c>) must arrive carrying its job id and correlation id.
/// </summary>
[TakesAbout(9)]
public sealed class TelemetryExportTests
{
    private static readonly string[] JobSpans = ["job.create", "job.step", "job.finish"];

    private static async Task<(string Id, string CorrelationId)> RunJobAsync(RunnerProcess runner)
    {
        var correlationId = "tel-" + Guid.NewGuid().ToString("N")[..8];
        var created = await RunnerFixture.CreateJobAsync(runner.Client, new { type = "demo.steps", input = new { steps = 2, delayMs = 10 }, correlationId });
        var id = (string)created["id"]!;
        var end = await RunnerFixture.WaitForEndAsync(runner.Client, id, TimeSpan.FromSeconds(60));
        Assert.Equal("completed", (string?)end["status"]);
        return (id, correlationId);
    }

    /// <summary>The console exporter's spans: one block per span, from its <c>Activity.TraceId:</c> line to the next.</summary>
    private static List<string> ConsoleSpans(string output) =>
        [.. output.Split("Activity.TraceId:").Skip(1)];

    [Fact]
    public async Task Console_JobRunEndToEnd_PrintsEachSpanWithItsJobAndCorrelationIds_AndTheMetrics()
    {
        using var runner = new RunnerProcess(_ => { }, new Dictionary<string, string>
        {
            ["Jobs__Telemetry__Console"] = "true",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
        });
        await runner.StartAsync();

        var (id, correlationId) = await RunJobAsync(runner);

        await Conditions.WaitUntilAsync(() => Task.FromResult(
            ConsoleSpans(runner.Output).Any(s => s.Contains("job.finish", StringComparison.Ordinal) && s.Contains(id, StringComparison.Ordinal))
            && runner.Output.Contains("Metric Name: jobs.ended", StringComparison.Ordinal)), "the job's last span and the jobs.ended metric on the console");
        var spans = ConsoleSpans(runner.Output).Where(s => s.Contains($"job.id: {id}", StringComparison.Ordinal)).ToList();
        foreach (var name in JobSpans)
        {
            Assert.Contains(spans, s => s.Contains($"Activity.DisplayName:        {name}", StringComparison.Ordinal));
        }
        Assert.Equal(4, spans.Count); // create, two steps, finish
        Assert.All(spans, s => Assert.Contains($"job.correlation_id: {correlationId}", s, StringComparison.Ordinal));
        Assert.Contains("Metric Name: jobs.started", runner.Output, StringComparison.Ordinal);
        Assert.Contains("Metric Name: jobs.step.duration", runner.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Otlp_JobRunEndToEnd_SendsTheJobsSpansAndMetricsToTheCollector()
    {
        using var collector = new TelemetryReceiver();
        using var runner = new RunnerProcess(_ => { }, new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Address,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        });
        await runner.StartAsync();

        var (id, correlationId) = await RunJobAsync(runner);

        // OTLP protobuf keeps strings as UTF-8 bytes: a span's name, its attribute keys and values can be found in the body.
        bool Sent(string path, params string[] texts) =>
            collector.Received.Any(r => r.Path == path && texts.All(t => r.Text.Contains(t, StringComparison.Ordinal)));
        await Conditions.WaitUntilAsync(() => Task.FromResult(Sent("/v1/traces", "job.finish", id) && Sent("/v1/metrics", "jobs.ended")),
            "the job's last span at /v1/traces and jobs.ended at /v1/metrics");
        foreach (var name in JobSpans)
        {
            Assert.True(Sent("/v1/traces", name, "job.id", id, "job.correlation_id", correlationId), $"no {name} span with the job's ids");
        }
        Assert.All(collector.Received.Where(r => r.Path == "/v1/traces"), r => Assert.Equal("application/x-protobuf", r.ContentType));
        Assert.True(Sent("/v1/metrics", "jobs.started"));
    }

    [Fact]
    public async Task ApplicationInsights_JobRunEndToEnd_SendsEachSpanWithItsIds_AndTheLogs()
    {
        // Application Insights' ingestion protocol (v2.1/track): gzip'd newline-delimited JSON envelopes, answered with counts.
        using var ingestion = new TelemetryReceiver((_, body) =>
        {
            var items = Encoding.UTF8.GetString(body).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
            return $$"""{"itemsReceived":{{items}},"itemsAccepted":{{items}},"errors":[]}""";
        });
        using var runner = new RunnerProcess(_ => { }, new Dictionary<string, string>
        {
            ["APPLICATIONINSIGHTS_CONNECTION_STRING"] = $"InstrumentationKey=00000000-0000-0000-0000-000000000029;IngestionEndpoint={ingestion.Address}/",
        });
        await runner.StartAsync();

        var (id, correlationId) = await RunJobAsync(runner);

        List<JsonNode> Envelopes() =>
        [
            .. ingestion.Received.Where(r => r.Path == "/v2.1/track")
                .SelectMany(r => r.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                .Select(line => JsonNode.Parse(line)!),
        ];
        static string? BaseType(JsonNode envelope) => (string?)envelope["data"]?["baseType"];
        static JsonNode? BaseData(JsonNode envelope) => envelope["data"]?["baseData"];
        List<JsonNode> JobSpansSent() =>
            [.. Envelopes().Where(e => (string?)BaseData(e)?["properties"]?["job.id"] == id && JobSpans.Contains((string?)BaseData(e)?["name"]))];
        await Conditions.WaitUntilAsync(() => Task.FromResult(JobSpansSent().Any(e => (string?)BaseData(e)!["name"] == "job.finish")),
            "the job's last span at the ingestion endpoint");
        await Conditions.WaitUntilAsync(() => Task.FromResult(Envelopes().Any(e => BaseType(e) == "MessageData")), "a log record at the ingestion endpoint");

        var spans = JobSpansSent();
        foreach (var name in JobSpans)
        {
            Assert.Contains(spans, e => (string?)BaseData(e)!["name"] == name);
        }
        Assert.Equal(4, spans.Count);
        Assert.All(spans, e => Assert.Equal(correlationId, (string?)BaseData(e)!["properties"]!["job.correlation_id"]));
        Assert.All(spans, e => Assert.Equal("00000000-0000-0000-0000-000000000029", (string?)e["iKey"]));
    }
}
