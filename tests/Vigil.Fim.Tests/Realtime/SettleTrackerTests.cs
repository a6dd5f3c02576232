using Microsoft.Extensions.Time.Testing;
using Vigil.Fim.Realtime;

namespace Vigil.Fim.Tests.Realtime;

public sealed class SettleTrackerTests
{
    private const string File = "/srv/upload/new.bin";

    [Fact]
    public void ACreationClosedBeforeItsWorkerLooks_IsNotArmed_AndIsNotLookedAtAgain()
    {
        var time = new FakeTimeProvider();
        var settle = new SettleTracker(time);
        settle.Queued(File);
        Assert.False(settle.ClosedSinceQueued(File));
        settle.Cancel(File); // IN_CLOSE_WRITE in the next read of inotify, its own check queued

        Assert.True(settle.ClosedSinceQueued(File));
        Assert.False(settle.TryArm(File));
        Assert.False(settle.ClosedSinceQueued(File));
        time.Advance(SettleTracker.Quiet + TimeSpan.FromSeconds(1));
        Assert.Empty(settle.TakeDue());
        Assert.Equal(0, settle.Count);
    }

    [Fact]
    public void ACreationStillOpen_IsArmed_AndDueOnceQuiet()
    {
        var time = new FakeTimeProvider();
        var settle = new SettleTracker(time);
        settle.Queued(File);

        Assert.True(settle.TryArm(File));
        Assert.True(settle.IsPending(File));
        Assert.Empty(settle.TakeDue());
        time.Advance(SettleTracker.Quiet);
        Assert.Equal([File], settle.TakeDue());
    }

    [Fact]
    public void ACloseAfterTheArm_CancelsIt_AndLeavesNothingForTheNextCreation()
    {
        var time = new FakeTimeProvider();
        var settle = new SettleTracker(time);
        settle.Queued(File);
        Assert.True(settle.TryArm(File));
        settle.Cancel(File);
        Assert.False(settle.IsPending(File));

        // The same name created again later is a creation of its own: nothing remembered from the first one.
        settle.Queued(File);
        Assert.True(settle.TryArm(File));
    }

    [Fact]
    public void Dequeued_SaysWhetherACloseCame_AndForgetsIt()
    {
        var settle = new SettleTracker(new FakeTimeProvider());
        settle.Queued(File);
        Assert.False(settle.Dequeued(File));

        settle.Queued(File);
        settle.Cancel(File);
        Assert.True(settle.Dequeued(File));
        settle.Queued(File);
        Assert.False(settle.Dequeued(File));
    }

    [Fact]
    public void ACloseOfAFileNoWorkerWaitsFor_IsNotRemembered()
    {
        var settle = new SettleTracker(new FakeTimeProvider());
        settle.Cancel(File);
        settle.Queued(File);
        Assert.True(settle.TryArm(File));
    }
}
