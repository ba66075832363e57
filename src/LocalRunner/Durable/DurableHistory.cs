using System.Text.Json;
using System.Text.Json.Nodes;
using DurableTask.Core;
using DurableTask.Core.History;

namespace Jobs.LocalRunner.Durable;

/// <summary>
/// The <c>historyEvents</c> of the HTTP API's instance status, shaped from the backend's history JSON exactly as the
/// Durable extension does (Microsoft.Azure.WebJobs.Extensions.DurableTask 3.18.0,
/// DurableClient.GetDurableOrchestrationStatusAsync): event types by name; the orchestrator-started/completed
/// bookkeeping events dropped; each TaskScheduled folded into the TaskCompleted/TaskFailed that answers it
/// (<c>FunctionName</c>, <c>ScheduledTime</c>, and its input when inputs are shown), and likewise for
/// sub-orchestrations; ExecutionStarted's <c>Name</c> as <c>FunctionName</c>; results only with
/// <c>showHistoryOutput</c> (then parsed as JSON); inputs only with <c>showInput</c>; no <c>EventId</c>/<c>IsPlayed</c>.
/// </summary>
public static class DurableHistory
{
    public static JsonArray Shape(JsonArray raw, bool showHistoryOutput, bool showInput)
    {
        var scheduled = new Dictionary<string, (int Index, JsonNode? Name, JsonNode? Timestamp, JsonNode? Input, JsonNode? InstanceId)>();
        var dropped = new bool[raw.Count];
        for (var i = 0; i < raw.Count; i++)
        {
            if (raw[i] is not JsonObject item || !TryEventType(item["EventType"], out var type))
            {
                continue;
            }
            item["EventType"] = type.ToString();
            switch (type)
            {
                case EventType.TaskScheduled:
                case EventType.SubOrchestrationInstanceCreated:
                    scheduled[$"{type}_{item["EventId"]}"] = (i, Copy(item["Name"]), Copy(item["Timestamp"]), Copy(item["Input"]), Copy(item["InstanceId"]));
                    item.Remove("Version");
                    break;
                case EventType.TaskCompleted:
                case EventType.TaskFailed:
                case EventType.SubOrchestrationInstanceCompleted:
                case EventType.SubOrchestrationInstanceFailed:
                    var created = type is EventType.TaskCompleted or EventType.TaskFailed ? EventType.TaskScheduled : EventType.SubOrchestrationInstanceCreated;
                    if (scheduled.TryGetValue($"{created}_{item["TaskScheduledId"]}", out var origin))
                    {
                        item["ScheduledTime"] = Copy(origin.Timestamp);
                        item["FunctionName"] = Copy(origin.Name);
                        if (origin.InstanceId is JsonValue id && !string.IsNullOrEmpty(id.GetValue<string>()))
                        {
                            item["InstanceId"] = Copy(id);
                        }
                        if (showInput)
                        {
                            item["Input"] = Copy(origin.Input);
                        }
                        dropped[origin.Index] = true;
                    }
                    item.Remove("TaskScheduledId");
                    Result(item, type is EventType.TaskCompleted or EventType.SubOrchestrationInstanceCompleted, showHistoryOutput);
                    break;
                case EventType.ExecutionStarted:
                    var name = item["Name"];
                    item.Remove("Name");
                    item["FunctionName"] = name;
                    foreach (var key in new[] { "OrchestrationInstance", "ParentInstance", "Version", "Tags" })
                    {
                        item.Remove(key);
                    }
                    break;
                case EventType.ExecutionCompleted:
                    if (item["OrchestrationStatus"] is JsonValue status && Enum.TryParse<OrchestrationStatus>(status.ToString(), out var parsed))
                    {
                        item["OrchestrationStatus"] = parsed.ToString();
                    }
                    Result(item, true, showHistoryOutput);
                    break;
                case EventType.TimerFired:
                    item.Remove("TimerId");
                    break;
                case EventType.OrchestratorStarted:
                case EventType.OrchestratorCompleted:
                    dropped[i] = true;
                    break;
            }
            if (!showInput)
            {
                item.Remove("Input");
            }
            item.Remove("EventId");
            item.Remove("IsPlayed");
        }
        var shaped = new JsonArray();
        for (var i = 0; i < raw.Count; i++)
        {
            if (!dropped[i])
            {
                shaped.Add(Copy(raw[i]));
            }
        }
        return shaped;
    }

    /// <summary>A result is kept only when outputs are shown, and then as JSON rather than a string holding JSON.</summary>
    private static void Result(JsonObject item, bool hasResult, bool showHistoryOutput)
    {
        if (!hasResult)
        {
            return;
        }
        if (!showHistoryOutput)
        {
            item.Remove("Result");
            return;
        }
        if (item["Result"] is JsonValue value && value.TryGetValue<string>(out var text))
        {
            try
            {
                item["Result"] = JsonNode.Parse(text);
            }
            catch (JsonException)
            {
                // Not JSON: the extension keeps such a value as the string it is.
            }
        }
    }

    private static bool TryEventType(JsonNode? node, out EventType type)
    {
        type = default;
        return node is JsonValue value && Enum.TryParse(value.ToString(), out type);
    }

    private static JsonNode? Copy(JsonNode? node) => node?.DeepClone();
}
