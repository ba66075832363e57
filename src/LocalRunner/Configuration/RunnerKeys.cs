namespace Jobs.LocalRunner.Configuration;

/// <summary>
/// Key settings of the runner, bound from <c>Jobs:Runner</c>. With <see cref="RequireKeys"/> off (the local default)
/// nothing asks for a key — function routes and the native Durable HTTP API alike — as under <c>func start</c>
/// without <c>--enableAuth</c>. With it on, keys are checked as the host checks them (<see cref="HostKeys"/>).
/// </summary>
public sealed class RunnerKeys
{
    public const string Section = "Jobs:Runner";

    /// <summary>Check keys like the Functions host in Azure (Core Tools' <c>--enableAuth</c>).</summary>
    public bool RequireKeys { get; set; }

    /// <summary>Replaces the stored <c>default</c> host function key.</summary>
    public string? FunctionKey { get; set; }

    /// <summary>Replaces the stored <c>durabletask_extension</c> system key (the key of the native Durable HTTP API).</summary>
    public string? SystemKey { get; set; }
}
