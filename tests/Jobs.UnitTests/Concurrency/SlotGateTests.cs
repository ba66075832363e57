using Jobs.Functions.Concurrency;
using Jobs.Functions.Handlers;

namespace Jobs.UnitTests.Concurrency;

/// <summary>The rules of a type's slots (<see cref="SlotGate"/>): who starts, in which order, and where a waiting job stands.</summary>
public sealed class SlotGateTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 9, 0, 0, TimeSpan.Zero);

    private static SlotWaiter Waiter(string id, int priority = 5, int arrivedSecond = 0, string key = "") => new(id, key, priority, T0.AddSeconds(arrivedSecond));

    private static SlotHolder Holder(string id, string key = "") => new(id, key);

    [Fact]
    public void Grant_FreeSlots_GoToTheHighestPriorityFirst_ThenTheEarliestArrival()
    {
        var waiters = new[] { Waiter("late-high", 9, 30), Waiter("early-low", 1, 0), Waiter("early-high", 9, 10), Waiter("mid", 5, 5) };

        var granted = SlotGate.Grant([Holder("running")], waiters, new JobConcurrency(MaxRunning: 3), paused: false);

        Assert.Equal(["early-high", "late-high"], granted.Select(w => w.JobId));
    }

    [Fact]
    public void Grant_NeverExceedsTheTypesMaximum()
    {
        var waiters = Enumerable.Range(0, 10).Select(i => Waiter($"w{i}", arrivedSecond: i));

        var granted = SlotGate.Grant([Holder("a"), Holder("b")], waiters, new JobConcurrency(MaxRunning: 3), paused: false);

        Assert.Equal(["w0"], granted.Select(w => w.JobId));
    }

    [Fact]
    public void Grant_AFullKey_IsPassedOver_AndAnotherKeysJobBehindItStarts_ButNotOneOfTheSameKey()
    {
        var limits = new JobConcurrency(MaxRunning: 10, MaxPerKey: 2);
        var holders = new[] { Holder("a1", "tenant-a"), Holder("a2", "tenant-a") };
        var waiters = new[] { Waiter("a3", 9, 0, "tenant-a"), Waiter("b1", 1, 1, "tenant-b"), Waiter("a4", 9, 2, "tenant-a"), Waiter("b2", 1, 3, "tenant-b"), Waiter("b3", 1, 4, "tenant-b") };

        var granted = SlotGate.Grant(holders, waiters, limits, paused: false);

        Assert.Equal(["b1", "b2"], granted.Select(w => w.JobId));
    }

    [Fact]
    public void Grant_APausedType_StartsNone()
    {
        Assert.Empty(SlotGate.Grant([], [Waiter("w")], JobConcurrency.Unlimited, paused: true));
        Assert.Empty(SlotGate.Grant([], [Waiter("w")], new JobConcurrency(MaxRunning: 5), paused: true));
    }

    [Fact]
    public void Grant_AnUnlimitedType_StartsEveryWaiter_UpToTheBatch()
    {
        var waiters = Enumerable.Range(0, 150).Select(i => Waiter($"w{i:D3}", arrivedSecond: i)).ToList();

        var granted = SlotGate.Grant([], waiters, JobConcurrency.Unlimited, paused: false, max: 98);

        Assert.Equal(waiters.Take(98).Select(w => w.JobId), granted.Select(w => w.JobId));
    }

    [Fact]
    public void Fits_CountsTheTypeAndTheKey()
    {
        var limits = new JobConcurrency(MaxRunning: 3, MaxPerKey: 1);
        IReadOnlyCollection<SlotHolder> holders = [Holder("a", "k1"), Holder("b", "k2")];

        Assert.False(SlotGate.Fits(holders, "k1", limits));
        Assert.True(SlotGate.Fits(holders, "k3", limits));
        Assert.False(SlotGate.Fits([.. holders, Holder("c", "k3")], "k4", limits));
    }

    [Fact]
    public void Position_CountsTheWaitersAheadThatShareItsLimit()
    {
        var waiters = new[] { Waiter("a1", 5, 0, "a"), Waiter("b1", 9, 1, "b"), Waiter("a2", 5, 2, "a"), Waiter("a0", 7, 3, "a") };

        Assert.Equal(3, SlotGate.Position(waiters, "a2", new JobConcurrency(MaxPerKey: 1)));
        Assert.Equal(1, SlotGate.Position(waiters, "b1", new JobConcurrency(MaxPerKey: 1)));
        Assert.Equal(4, SlotGate.Position(waiters, "a2", new JobConcurrency(MaxRunning: 1)));
        Assert.Null(SlotGate.Position(waiters, "missing", new JobConcurrency(MaxRunning: 1)));
    }

    [Fact]
    public void Order_IsTheWaitingRowsKeyOrder()
    {
        // The queue is read from storage in RowKey order: it must be the order the gate grants in.
        var jobs = new[]
        {
            new Jobs.Functions.Model.Job { Id = "c", Type = "t", Status = Jobs.Functions.Model.JobStatus.Queued, Owner = "o", Priority = 1, CreatedAt = T0 },
            new Jobs.Functions.Model.Job { Id = "a", Type = "t", Status = Jobs.Functions.Model.JobStatus.Queued, Owner = "o", Priority = 9, CreatedAt = T0.AddSeconds(5) },
            new Jobs.Functions.Model.Job { Id = "b", Type = "t", Status = Jobs.Functions.Model.JobStatus.Queued, Owner = "o", Priority = 9, CreatedAt = T0.AddSeconds(1) },
        };

        var byKey = jobs.OrderBy(JobSlots.WaitRowKey, StringComparer.Ordinal).Select(j => j.Id);
        var byGate = SlotGate.Order(jobs.Select(j => new SlotWaiter(j.Id, "", j.Priority, j.CreatedAt))).Select(w => w.JobId);

        Assert.Equal(["b", "a", "c"], byGate);
        Assert.Equal(byGate, byKey);
    }
}
