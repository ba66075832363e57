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

    private static JobPlan Plan(int revision = JobPlan.CurrentRevision) => new("job-1", "demo.steps",
        [new JobStepPlan("step-1", StepRetryPolicy.None)], new DateTimeOffset(Start).AddMinutes(10), Revision: revision);

    private static ScriptedOrchestrationContext Context(JobPlan plan, bool admitted, List<string> order) => new(plan, Start)
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
            return name == nameof(JobActivities.FinishJob)
                ? ((FinishRequest)input!).Status
                : new StepOutcome(StepOutcomeKind.Completed, JsonSerializer.SerializeToElement("done"), null, null);
        },
    };

    [Fact]
    public async Task AJobWithoutASlot_WaitsForTheGrantedEvent_BeforeItsFirstStep()
    {
        var order = new List<string>();

        await JobOrchestrator.RunAsync(Context(Plan(), admitted: false, order));

        Assert.Equal(["admit", JobSlots.GrantedEvent, nameof(JobActivities.RunJobStep), nameof(JobActivities.FinishJob)], order);
    }

    [Fact]
    public async Task AJobGrantedASlotAtOnce_RunsWithoutWaiting()
    {
        var order = new List<string>();

        await JobOrchestrator.RunAsync(Context(Plan(), admitted: true, order));

        Assert.Equal(["admit", nameof(JobActivities.RunJobStep), nameof(JobActivities.FinishJob)], order);
    }

    [Fact]
    public async Task AnInstanceStartedBeforeAdmissionExisted_ReplaysWithoutIt()
    {
        var order = new List<string>();

        await JobOrchestrator.RunAsync(Context(Plan(revision: 1), admitted: false, order));

        Assert.Equal([nameof(JobActivities.RunJobStep), nameof(JobActivities.FinishJob)], order);
    }
}
