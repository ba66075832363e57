using Jobs.Functions.Model;

namespace Jobs.Functions.Storage;

/// <summary>Statuses as stored in rows: an unknown one is an error to report, never read as some default.</summary>
internal static class StoredStatus
{
    public static JobStatus Parse(string? value, string where) =>
        JobStatusExtensions.TryParseWire(value, out var status)
            ? status
            : throw new InvalidDataException($"{where} has an unknown stored status '{value}'.");

    public static JobStatus? ParseOptional(string? value, string where) => value is null ? null : Parse(value, where);
}
