namespace Jobs.Functions.Model;

/// <summary>Why a job failed: the exception as the engine saw it, and the step it came from.</summary>
public sealed record JobError(string Message, string? Type, string? StackTrace, string? Step);
