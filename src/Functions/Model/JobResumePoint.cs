namespace Jobs.Functions.Model;

/// <summary>Where a resumed job started: the step (by name and 0-based index) its original failed at.</summary>
public sealed record JobResumePoint(string Step, int StepIndex);
