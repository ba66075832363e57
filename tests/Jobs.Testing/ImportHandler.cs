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
