namespace Jobs.LocalRunner.Configuration;

/// <summary>
/// Keys the runner checks, bound from <c>Jobs:Runner</c>. With <see cref="RequireKeys"/> off (the local
/// default) function-level HTTP triggers are open, as under <c>func start</c>.
/// </summary>
public sealed class RunnerKeys
{
    public const string Section = "Jobs:Runner";

    /// <summary>Require <c>code</c> / <c>x-functions-key</c> on function-level triggers.</summary>
    public bool RequireKeys { get; set; }

    /// <summary>The function key accepted when keys are required.</summary>
    public string? FunctionKey { get; set; }

    /// <summary>Opens the native Durable HTTP API (<c>/runtime/webhooks/durabletask</c>). A random one is made when unset.</summary>
    public string? SystemKey { get; set; }
}
