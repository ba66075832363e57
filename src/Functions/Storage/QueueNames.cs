namespace Jobs.Functions.Storage;

/// <summary>Queue names are part of the contract with other services, so they are constants, not settings.</summary>
public static class QueueNames
{
    public const string Submissions = "job-submissions";
    public const string SubmissionsPoison = "job-submissions-poison";
    public const string Events = "job-events";
}
