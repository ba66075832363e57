using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Jobs.Functions.Model;

namespace Jobs.Functions.Storage;

/// <summary>
/// One audit entry, in the <c>Jobs</c> table beside its job's record: PartitionKey = job id, RowKey = <c>audit-</c> + the
/// entry's cursor (UTC ticks, 19 digits, then a sequence, 6 digits — a log cursor's shape). Sharing the record's
/// partition is what lets the entry ride in the same entity-group transaction as the change it describes. In the
/// deletion log (<see cref="JobAuditLog"/>) the same columns, plus the deleted job's owner and type, sit under
/// PartitionKey = <c>audit-deleted-{yyyyMMdd}</c>, RowKey = job id.
/// </summary>
public sealed class JobAuditEntity : ITableEntity
{
    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public DateTimeOffset At { get; set; }
    public string Action { get; set; } = "";
    public string ActorKind { get; set; } = "";
    public string ActorId { get; set; } = "";
    public string? ActorName { get; set; }
    public string? IdentityProvider { get; set; }
    public string? ClientAddress { get; set; }

    /// <summary>The details as a JSON object of strings.</summary>
    public string? Details { get; set; }

    /// <summary>Deletion log rows only: the cursor the entry had, and the deleted job's owner and type.</summary>
    public string? Cursor { get; set; }
    public string? JobOwner { get; set; }
    public string? JobType { get; set; }

    public static JobAuditEntity FromEntry(string partition, string rowKey, JobAuditEntry entry) => new()
    {
        PartitionKey = partition,
        RowKey = rowKey,
        At = entry.At,
        Action = entry.Action,
        ActorKind = entry.Actor.Kind,
        ActorId = entry.Actor.Id,
        ActorName = entry.Actor.Name,
        IdentityProvider = entry.Actor.IdentityProvider,
        ClientAddress = entry.Actor.ClientAddress,
        Details = entry.Details.Count == 0 ? null : JsonSerializer.Serialize(entry.Details),
    };

    public JobAuditEntry ToEntry(string cursor) => new(
        cursor,
        At,
        Action,
        new AuditActor(ActorKind, ActorId, ActorName, IdentityProvider, ClientAddress),
        Details is null ? new Dictionary<string, string>() : JsonSerializer.Deserialize<Dictionary<string, string>>(Details) ?? []);
}
