namespace Jobs.Functions.Submissions;

/// <summary>
/// A member of a <c>job-submissions</c> message that the HTTP API refuses (the caller's identity supplies it there):
/// the OpenAPI document leaves it out of the request body it describes.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class QueueOnlyAttribute : Attribute;
