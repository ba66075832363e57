namespace Jobs.LocalRunner.Configuration;

/// <summary>
/// host.json's <c>extensions.durableTask.overridableExistingInstanceStates</c>: which existing instances a start with
/// the same id replaces (Azure/azure-functions-durable-extension, OverridableStates and
/// OverridableStatesExtensions.ToDedupeStatuses). The extension's default is <see cref="NonRunningStates"/>.
/// </summary>
public enum OverridableStates
{
    /// <summary>Any existing instance is replaced, even a running one (no dedupe statuses).</summary>
    AnyState = 0,

    /// <summary>Only an instance that has ended is replaced; a Running, Pending, Suspended or ContinuedAsNew one is refused.</summary>
    NonRunningStates = 1,
}
