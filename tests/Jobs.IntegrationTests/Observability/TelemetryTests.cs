using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Jobs.Functions.Observability;
using Jobs.Testing;

namespace Jobs.IntegrationTests.Observability;

/// <summary>
/// Traces and metrics as an OpenTelemetry SDK would see them (listening to the same ActivitySource and Meter), from a
/// create request carrying a W3C traceparent, through the orchestration, to every step.
/// </summary>
[Collection(RunnerCollection.Name)]
public sealed class TelemetryTests(RunnerFixture runner)
{
    [Fact]
    public async Task AStepsSpan_CarriesItsJob_AndSharesTheCreateRequestsTrace()
    {
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is JobsTelemetry.Name or "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        var ended = new ConcurrentQueue<(string Type, string Status)>();
        using var meters = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == JobsTelemetry.Name)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        meters.SetMeasurementEventCallback<long>((instrument, _, tags, _) =>
        {
            if (instrument.Name == "jobs.ended")
            {
                var values = tags.ToArray().ToDictionary(t => t.Key, t => t.Value?.ToString());
                ended.Enqueue((values["job.type"]!, values["job.status"]!));
            }
        });
        meters.Start();

        var traceId = ActivityTraceId.CreateRandom();
        using var client = runner.Client("otel-" + Guid.NewGuid().ToString("N")[..8]);
        client.DefaultRequestHeaders.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");
        var id = (string)(await RunnerFixture.CreateJobAsync(client, new { type = "demo.steps", input = new { steps = 2 }, correlationId = "traced" }))["id"]!;
        await RunnerFixture.WaitForEndAsync(client, id);

        Activity[] mine = [];
        for (var i = 0; i < 50 && !mine.Any(s => s.OperationName == "job.finish"); i++)
        {
            await Task.Delay(100);
            mine = [.. spans.Where(s => s.GetTagItem("job.id") as string == id)];
        }
        var create = Assert.Single(mine, s => s.OperationName == "job.create");
        var steps = mine.Where(s => s.OperationName == "job.step").ToList();
        Assert.Equal(2, steps.Count);
        Assert.All(mine, span => Assert.Equal(traceId, span.TraceId)); // one trace, across the durable boundary
        Assert.All(steps, step =>
        {
            Assert.Equal(("demo.steps", "traced"), (step.GetTagItem("job.type"), step.GetTagItem("job.correlation_id")));
            Assert.Equal(create.SpanId, step.ParentSpanId);
        });
        Assert.Equal(["step-1", "step-2"], steps.Select(s => (string)s.GetTagItem("job.step")!).Order());
        Assert.Single(mine, s => s.OperationName == "job.finish");
        Assert.Contains(("demo.steps", "completed"), ended);
    }
}
