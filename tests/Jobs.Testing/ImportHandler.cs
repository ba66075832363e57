using System.ComponentModel.DataAnnotations;
using Jobs.Functions.Handlers;

namespace Jobs.Testing;

/// <summary>Input of <see cref="ImportHandler"/>: a job type that cannot run without input.</summary>
public sealed record ImportInput
{
    [Required]
    public string? Source { get; init; }

    [Range(1, 1000)]
    public int BatchSize { get; init; } = 100;
}

/// <summary>
/// <c>test.import</c>: registered only in tests. Its input has a required field, so the default input does not
/// validate; it declares its two fixed steps for <c>GET /api/job-types</c>.
/// </summary>
public class ImportHandler : JobHandler<ImportInput>
{
    public const string TypeName = "test.import";

    public override string Type => TypeName;

    protected override IReadOnlyList<string> DeclaredSteps => ["fetch", "import"];

    protected override IReadOnlyList<JobStep<ImportInput>> Steps(ImportInput input) =>
    [
        new("fetch", (i, _) => Task.FromResult<object?>(new { source = i.Source })),
        new("import", (i, _) => Task.FromResult<object?>(new { source = i.Source, i.BatchSize })),
    ];
}

/// <summary>The same type without declared steps: its steps depend on input it does not have.</summary>
public sealed class UndeclaredImportHandler : ImportHandler
{
    protected override IReadOnlyList<string> DeclaredSteps => [];
}

/// <summary>Input of <see cref="LeaseHandler"/>.</summary>
public sealed record LeaseInput
{
    public bool Fail { get; init; } = true;
}

/// <summary>
/// <c>test.lease</c>: registered only in tests. A type that declares itself not resumable (its second step would need
/// the lease its first step took, which ends with the job); its second step fails when told to.
/// </summary>
public sealed class LeaseHandler : JobHandler<LeaseInput>
{
    public const string TypeName = "test.lease";

    public override string Type => TypeName;

    public override string? NotResumableReason => "its steps hold a lease that ends with the job";

    protected override StepRetryPolicy DefaultRetry { get; } = new(1, TimeSpan.FromMilliseconds(100));

    protected override IReadOnlyList<JobStep<LeaseInput>> Steps(LeaseInput input) =>
    [
        new("take-lease", (_, _) => Task.FromResult<object?>(new { lease = "l-1" })),
        new("use-lease", (i, _) => i.Fail ? throw new InvalidOperationException("The lease was lost.") : Task.FromResult<object?>(null)),
    ];
}
