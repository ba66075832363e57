using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Schema;
using Jobs.Functions.Model;

namespace Jobs.Functions.Handlers;

/// <summary>
/// Base class for job types: declare the type name, the input record and the ordered steps; the engine does the rest.
/// </summary>
/// <remarks>
/// Input is read with the service's strict JSON options (unknown members are errors), then checked with
/// DataAnnotations attributes on <typeparamref name="TInput"/>, then with <see cref="Validate"/>.
/// </remarks>
public abstract class JobHandler<TInput> : IJobHandler
    where TInput : class
{
    public abstract string Type { get; }

    public virtual string Description => Type;

    public virtual TimeSpan Timeout => TimeSpan.FromHours(1);

    public TimeSpan TimeoutFor(object input) => TimeoutFor((TInput)input);

    /// <summary>Override when the input decides the timeout.</summary>
    protected virtual TimeSpan TimeoutFor(TInput input) => Timeout;

    /// <summary>Key/values every job of this type carries in its <c>metadata</c> from creation on (a result may add more).</summary>
    public virtual IReadOnlyDictionary<string, string> StaticMetadata { get; } = new Dictionary<string, string>();

    public bool Resumable => NotResumableReason is null;

    /// <summary>Override with the reason to refuse resuming this type at a failed step (a whole rerun is always allowed).</summary>
    public virtual string? NotResumableReason => null;

    /// <summary>Override for a type only the service creates, with the route that does (see <see cref="IJobHandler.CreatedThrough"/>).</summary>
    public virtual string? CreatedThrough => null;

    /// <summary>The events a job of this type waits for (none by default: every raised event is refused).</summary>
    public virtual IReadOnlyList<JobEventDeclaration> Events => [];

    /// <summary>Override to limit how many jobs of this type run at once (none by default).</summary>
    public virtual JobConcurrency Concurrency => JobConcurrency.Unlimited;

    /// <summary>Override to start this type's jobs earlier or later among queued ones (5 of 0–9 by default).</summary>
    public virtual int DefaultPriority => JobPriority.Default;

    /// <summary>Retry policy for steps that do not name their own.</summary>
    protected virtual StepRetryPolicy DefaultRetry => StepRetryPolicy.Default;

    public JsonNode InputSchema => JsonSchemas.For(typeof(TInput));

    /// <summary>The ordered steps for this input. Must depend on nothing but the input.</summary>
    protected abstract IReadOnlyList<JobStep<TInput>> Steps(TInput input);

    /// <summary>
    /// The step names to describe the type by when the default input (<c>{}</c>) does not validate, e.g. because
    /// <typeparamref name="TInput"/> has a <c>[Required]</c> field. Declare them when the steps do not depend on the
    /// input; leave the list empty when they do, and the type is described without steps.
    /// </summary>
    protected virtual IReadOnlyList<string> DeclaredSteps => [];

    /// <summary>Rules DataAnnotations cannot express. Field names are paths below <c>input</c>.</summary>
    protected virtual IEnumerable<InputError> Validate(TInput input) => [];

    public object ParseInput(JsonElement? input)
    {
        TInput? parsed;
        try
        {
            var json = input is { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined } element
                ? element.GetRawText()
                : "{}";
            parsed = JsonSerializer.Deserialize<TInput>(json, JobJson.Strict);
        }
        catch (JsonException ex)
        {
            throw new InputValidationException(JsonErrors.FieldOf(ex, "input"), JsonErrors.Describe(ex));
        }
        if (parsed is null)
        {
            throw new InputValidationException("input", "must be a JSON object");
        }

        var errors = new List<InputError>();
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(parsed, new ValidationContext(parsed), results, validateAllProperties: true))
        {
            errors.AddRange(results.Select(r => new InputError(
                "input." + JsonNamingPolicy.CamelCase.ConvertName(r.MemberNames.FirstOrDefault() ?? ""),
                r.ErrorMessage ?? "is invalid")));
        }
        errors.AddRange(Validate(parsed).Select(e => e with { Field = "input." + e.Field }));
        if (errors.Count > 0)
        {
            throw new InputValidationException(errors);
        }
        return parsed;
    }

    public HandlerRun Prepare(JsonElement? input) => Bind((TInput)ParseInput(input));

    public IReadOnlyList<JobStepPlan> PlanSteps(object input) => Bind((TInput)input).Steps;

    public IReadOnlyList<string> DescribeSteps()
    {
        object defaults;
        try
        {
            defaults = ParseInput(null);
        }
        catch (InputValidationException)
        {
            // The type cannot run without input (a required field): describe it by what it declares.
            return DeclaredSteps;
        }
        return [.. PlanSteps(defaults).Select(s => s.Name)];
    }

    public Task<object?> RunStepAsync(string stepName, object input, JobStepContext context) =>
        Bind((TInput)input).RunStepAsync(stepName, context);

    public Task<object?> RunItemAsync(string stepName, object input, JsonElement item, JobStepContext context) =>
        Bind((TInput)input).RunItemAsync(stepName, item, context);

    /// <summary>The steps of one validated input, planned once.</summary>
    private HandlerRun Bind(TInput typed)
    {
        var steps = Steps(typed);
        CheckDecisions(steps);
        return new HandlerRun(this, typed,
            [.. steps.Select(s => new JobStepPlan(s.Name, s.Retry ?? DefaultRetry, s.Parallel?.MaxParallelism ?? 0, s.Parallel?.OnItemFailure ?? ItemFailureMode.FailFast,
                s.Decision))],
            TimeoutFor(typed),
            (stepName, context) => Step(steps, stepName).Run(typed, context),
            (stepName, item, context) => (Step(steps, stepName).Parallel
                ?? throw new InvalidOperationException($"{Type}'s step '{stepName}' is not a parallel step.")).RunItem(typed, item, context));
    }

    /// <summary>A step's decision must be well formed, unique by name, and not on a parallel step.</summary>
    private void CheckDecisions(IReadOnlyList<JobStep<TInput>> steps)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var step in steps)
        {
            if (step.Decision is not { } decision)
            {
                continue;
            }
            decision.Check(Type, step.Name);
            if (step.Parallel is not null)
            {
                throw new InvalidOperationException($"{Type}'s parallel step '{step.Name}' cannot wait for a decision; give the decision a step of its own.");
            }
            if (!names.Add(decision.Name))
            {
                throw new InvalidOperationException($"{Type} asks the decision '{decision.Name}' in two steps; decision names are unique per job.");
            }
        }
    }

    private JobStep<TInput> Step(IReadOnlyList<JobStep<TInput>> steps, string stepName) =>
        steps.FirstOrDefault(s => s.Name == stepName)
        ?? throw new ArgumentOutOfRangeException(nameof(stepName), stepName, $"{Type} has no step named '{stepName}'.");
}
