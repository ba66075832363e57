using System.Text.Json.Serialization;

namespace Jobs.Functions.Model;

/// <summary>
/// Who did something to a job (its audit trail, <see cref="JobAuditEntry"/>): a signed-in person (<see cref="UserKind"/>:
/// the principal's id, name and identity provider, and the client address where it is trusted) or a part of the service
/// acting on its own (<see cref="SystemKind"/>: the reconciler, retention, the submissions queue).
/// </summary>
/// <remarks>
/// <see cref="BulkJob"/>: the person acted through a bulk job (<c>POST /api/jobs/bulk</c>); the entries it writes name
/// it in their details, and the bulk job's own trail says where the request came from.
/// </remarks>
public sealed record AuditActor(
    string Kind, string Id, string? Name = null, string? IdentityProvider = null, string? ClientAddress = null,
    [property: JsonIgnore] string? BulkJob = null)
{
    public const string UserKind = "user";
    public const string SystemKind = "system";

    /// <summary>Longest name or id kept (principal ids are at most 256 characters already).</summary>
    public const int MaxChars = 256;

    public static AuditActor User(string id, string? name, string? identityProvider, string? clientAddress) =>
        new(UserKind, Shorten(id)!, Shorten(name), Shorten(identityProvider), Shorten(clientAddress));

    /// <summary>A part of the service acting on its own, e.g. <c>reconciler</c>.</summary>
    public static AuditActor System(string component) => new(SystemKind, component);

    /// <summary>The service acting for a caller it was handed no identity of: a queue message naming an owner, a call from code.</summary>
    public static readonly AuditActor Service = System("service");

    /// <summary>The schedule timer, creating a schedule's run.</summary>
    public static readonly AuditActor Scheduler = System("scheduler");

    /// <summary>The same person acting through bulk job <paramref name="bulkJobId"/>.</summary>
    public AuditActor ThroughBulk(string bulkJobId) => this with { BulkJob = bulkJobId, ClientAddress = null };

    /// <summary>How the job's log line names who asked: the id, and the bulk job it came through.</summary>
    public string Describe() => BulkJob is { } bulk ? $"{Id} (bulk {bulk})" : Id;

    private static string? Shorten(string? value) => value is null || value.Length <= MaxChars ? value : value[..MaxChars];
}
