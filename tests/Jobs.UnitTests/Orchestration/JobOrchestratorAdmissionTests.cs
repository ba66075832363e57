using System.Text.Json;
using Jobs.Functions.Concurrency;
using Jobs.Functions.Handlers;
using Jobs.Functions.Model;
using Jobs.Functions.Orchestration;
using Jobs.Testing;

namespace Jobs.UnitTests.Orchestration;

/// <summary>The admission before a job's first step (a slot of its type), against a scripted context.</summary>
public sealed class JobOrchestratorAdmissionTests
{
    private static readonly DateTime Start = new(2026, 12, 7, 12, 0, 0, DateTimeKind.Utc);

    private static JobPlan Plan(int revision = JobPlan.CurrentRevision, bool limited = true) => new("job-1", "demo.steps",
        [new JobStepPlan("step-1", StepRetryPolicy.None), new JobStepPlan("step-2", StepRetryPolicy.None)], new DateTimeOffset(Start).AddMinutes(10),
        Revision: revision, Limited: limited);

    private static ScriptedOrchestrationContext Context(JobPlan plan, bool admitted, List<string> order, int pausedFirstSteps = 0) => new(plan, Start)
    {
        Admit = () =>
        {
            order.Add("admit");
            return admitted;
        },
        Event = name =>
        {
            order.Add(name);
            return null;
        },
        Activity = (name, input) =>
        {
            order.Add(name);
            if (name == nameof(JobActivities.FinishJob))
            {
                return ((FinishRequest)input!).Status;
            }
            // The first step of a type without limits answers "not admitted" while the type is paused.
            return ((StepRequest)input!).CheckPause && pausedFirstSteps-- > 0
                ? new StepOutcome(StepOutcomeKind.NotAdmitted, null, null, null)
                : new StepOutcome(StepOutcomeKind.Completed, JsonSerializer.SerializeToElement("done"), null, null);
        },
    };

    [Fact]
    public async Task AJobWithoutASlot_WaitsForTheGrantedEvent_BeforeItsFirstStep()
    {
        var order = new List<string>();

        await JobOrchestrator.RunAsync(Context(Plan(), admitted: false, order));

        Assert.Equal(["admit", JobSlots.GrantedEvent, Step, Step, Finish], order);
    }

    [Fact]
    public async Task AJobGrantedASlotAtOnce_RunsWithoutWaiting()
    {
        var order = new List<string>();

        await JobOrchestrator.RunAsync(Context(Plan(), admitted: true, order));

        Assert.Equal(["admit", Step, Step, Finish], order);
    }

    [Fact]
    public async Task AnInstanceStartedBeforeAdmissionExisted_ReplaysWithoutIt()
    {
        var order = new List<string>();

        await JobOrchestrator.RunAsync(Context(Plan(revision: 1), admitted: false, order));

        Assert.Equal([Step, Step, Finish], order);
    }

    [Fact]
    public async Task AJobOfATypeWithoutLimits_CallsNoAdmissionActivity_ItsFirstStepChecksThePause()
    {
        var order = new List<string>();
        var context = Context(Plan(limited: false), admitted: false, order);

        await JobOrchestrator.RunAsync(context);

        Assert.Equal([Step, Step, Finish], order);
        var steps = context.Calls.Where(c => c.Name == Step).Select(c => (StepRequest)c.Input!).ToList();
        Assert.True(steps[0].CheckPause);
        Assert.False(steps[1].CheckPause);
    }

    [Fact]
    public async Task AFirstStepNotAdmitted_AdmitsTheJob_WaitsForItsGrant_AndRunsTheStepAgain()
    {
        var order = new List<string>();
        var context = Context(Plan(limited: false), admitted: false, order, pausedFirstSteps: 1);

        var outcome = await JobOrchestrator.RunAsync(context);

        Assert.Equal([Step, "admit", JobSlots.GrantedEvent, Step, Step, Finish], order);
        var steps = context.Calls.Where(c => c.Name == Step).Select(c => (StepRequest)c.Input!).ToList();
        Assert.Equal([true, false, false], steps.Select(s => s.CheckPause));
        Assert.Equal([0, 0, 1], steps.Select(s => s.StepIndex));
        Assert.Equal([1, 1, 2], steps.Select(s => s.TotalAttempts)); // "not admitted" is no attempt
        Assert.Equal(JobStatus.Completed, outcome.Status);
    }

    [Fact]
    public async Task AFirstStepNotAdmitted_ThenGrantedAtOnce_RunsTheStepAgainWithoutWaiting()
    {
        var order = new List<string>();

        await JobOrchestrator.RunAsync(Context(Plan(limited: false), admitted: true, order, pausedFirstSteps: 1));

        Assert.Equal([Step, "admit", Step, Step, Finish], order);
    }

    [Fact]
    public async Task AnInstanceOfTheRevisionBefore_AdmitsBeforeItsFirstStep_EvenForATypeWithoutLimits()
    {
        var order = new List<string>();
        var context = Context(Plan(revision: JobPlan.AdmittedRevision, limited: false), admitted: true, order);

        await JobOrchestrator.RunAsync(context);

        Assert.Equal(["admit", Step, Step, Finish], order);
        Assert.All(context.Calls.Where(c => c.Name == Step), c => Assert.False(((StepRequest)c.Input!).CheckPause));
    }

    [Fact]
    public void APlanStoredBeforeItRecordedLimits_ReadsAsLimited()
    {
        var stored = JsonSerializer.Serialize(Plan(revision: JobPlan.AdmittedRevision), JsonSerializerOptions.Web).Replace(",\"limited\":true", "", StringComparison.Ordinal);
        Assert.DoesNotContain("limited", stored, StringComparison.Ordinal);

        var plan = JsonSerializer.Deserialize<JobPlan>(stored, JsonSerializerOptions.Web)!;

        Assert.True(plan.Limited);
        Assert.True(plan.AdmitsBeforeFirstStep);
    }

    private const string Step = nameof(JobActivities.RunJobStep);
    private const string Finish = nameof(JobActivities.FinishJob);
}
