using System.Security.Cryptography;
using System.Text.Json;
using Jobs.Functions.Model;

namespace Jobs.Functions.Submissions;

/// <summary>
/// What a submission asks for, as a SHA-256 (lowercase hex): stored with its idempotency key's claim, so a later request
/// with the same key is known to be the same request (the first job is returned) or another one (refused, as the IETF
/// httpapi-idempotency-key draft says: 422). The key itself is left out, so the header and the <c>idempotencyKey</c>
/// field give the same fingerprint; everything else the job is made from is in it, its input as compact JSON (so
/// whitespace does not count, the order of members does).
/// </summary>
public static class SubmissionFingerprint
{
    public static string Of(JobSubmission submission) =>
        Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(submission with { IdempotencyKey = null }, JobJson.Options)));
}
