namespace Jobs.Testing;

/// <summary>
/// The runner settings of the two-instance tests (one storage account, one task hub, one instance killed with
/// <c>kill -9</c>): the killed instance's messages come back after 20 s (5 minutes by default, shortened through the
/// runner's test-only overrides, as CrashRecoveryTests does), the reconciler runs every 2 s with a 5-s grace, and the
/// development caller is an admin.
/// </summary>
public static class TwoInstanceSettings
{
    /// <summary>App settings for <see cref="RunnerProcess"/>'s <c>local.settings.json</c>.</summary>
    public static IReadOnlyDictionary<string, string> Runner { get; } = new Dictionary<string, string>
    {
        ["Jobs__Runner__TestOverrides__WorkItemVisibilityTimeout"] = "00:00:20",
        ["Jobs__Runner__TestOverrides__ControlQueueVisibilityTimeout"] = "00:00:20",
        ["Jobs__Runner__Schedules__SweepTimedOutJobs"] = "*/2 * * * * *",
        ["Jobs__Reconciler__GraceSeconds"] = "5",
        ["Jobs__Identity__DevelopmentRoles"] = "admin",
    };

    /// <summary>The first of two instances on one storage account, task hub and tables; the second is <c>new RunnerProcess(first)</c>.</summary>
    public static RunnerProcess First() => new(_ => { }, Runner);
}
