package org.balloonlab.guest.balloon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.BitSet;
import org.balloonlab.balloon.driver.BalloonDriver;
import org.balloonlab.balloon.driver.DriverStats;
import org.balloonlab.guest.balloon.BalloonRig.Guest;
import org.balloonlab.guest.balloon.TestWorkloads.Gated;
import org.balloonlab.guest.balloon.TestWorkloads.Hot;
import org.balloonlab.guest.balloon.TestWorkloads.Sweep;
import org.balloonlab.hypervisor.machine.BalloonSnapshot;
import org.balloonlab.hypervisor.machine.VmSnapshot;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The real balloon driver inflating and deflating the real guest OS against an in-process hypervisor: sizes agree
 * on all three sides, frames come back to the machine exactly, and no read ever comes back wrong.
 */
class BalloonInflateDeflateTest {
  static final int GUEST_PAGES = 1_024;
  /** Enough machine memory that the hypervisor never pages: every frame count below is exact. */
  static final int FRAMES = 4_096;

  @TempDir
  Path dir;

  private BalloonRig rig;

  @AfterEach
  void tearDown() throws Exception {
    if (rig != null) {
      rig.close();
    }
  }

  /**
   * Boots a guest whose hot-set workload (larger than guest memory) has touched every PFN, then pauses it with
   * every access applied: each PFN has a frame, a few are free, the rest hold the workload's pages.
   */
  private Gated bootFullyTouchedGuest() throws Exception {
    rig = new BalloonRig(dir, BalloonRig.machineConfig(dir, FRAMES));
    Gated work = new Gated(new Hot(GUEST_PAGES + GUEST_PAGES / 4, 0.5), true);
    rig.boot("vm1", GUEST_PAGES, 4_096, work);
    rig.startDriver(BalloonRig.driverConfig("vm1"));
    // A page-out means the free list ran dry once: every PFN had been handed out, and each was zeroed on its
    // first touch, so each has a frame.
    rig.awaitUntil("the guest paged out", () -> rig.guest().pageOuts() > 0);
    work.close();
    rig.quiesce();
    assertEquals(GUEST_PAGES, (int) rig.onGuest(o -> rig.memory.touched().cardinality()), "every PFN was touched");
    assertEquals(GUEST_PAGES, rig.vmSnapshot().mappedPages(), "every PFN has a frame");
    return work;
  }

  @Test
  void inflatesExactlyToTheTargetAndGivesBackExactlyTheFramesOfThePagesItTook() throws Exception {
    Gated work = bootFullyTouchedGuest();
    Guest before = rig.guest();
    assertTrue(before.freePages() < 400, "the guest has far fewer free pages than the balloon will want");

    rig.setTarget(400);
    rig.awaitBalloon(400);

    Guest after = rig.guest();
    VmSnapshot vm = rig.vmSnapshot();
    BalloonSnapshot b = vm.balloon();
    assertEquals(400, b.targetPages());
    assertEquals(400, b.sizePages(), "the machine's balloon size");
    assertEquals(400, after.balloonPages(), "the guest OS's balloon pages");
    assertEquals(400, rig.driver.stats().pagesLocked());
    assertEquals(400, b.lockedTotal());
    assertEquals(0, b.refusedPages(), "the driver never asked for more than the target");

    // Every PFN the balloon took had a frame; each such frame went back to the machine.
    BitSet withFrames = rig.onGuest(o -> rig.memory.touched());
    BitSet taken = rig.kernel.held();
    taken.and(withFrames);
    assertEquals(400, taken.cardinality());
    assertEquals(GUEST_PAGES - 400, vm.mappedPages(), "mapped pages dropped by the ballooned pages with frames");
    assertEquals(0, vm.hostSwappedPages());
    assertEquals(0, rig.machine.snapshot().hostPageOuts(), "the hypervisor never paged");
    assertEquals(FRAMES - (GUEST_PAGES - 400), rig.machine.snapshot().freeFrames());

    // The guest found the pages itself: its free ones first, then its own victims (paged out, or dropped if clean).
    long reclaimed = (after.pageOuts() - before.pageOuts()) + (after.zeroPagesDropped() - before.zeroPagesDropped());
    assertEquals(400, before.freePages() + reclaimed - after.freePages(), "every balloon page is accounted for");
    assertTrue(after.pageOuts() > before.pageOuts(), "the guest paged out victims of its own choice");
    rig.machine.checkInvariants();

    // The workload keeps running with the balloon in place.
    work.open();
    rig.awaitAccesses(after.accesses(), 60_000);
    work.close();
    Guest end = rig.verifyAll();
    assertEquals(400, end.balloonPages());
    assertEquals(400, rig.balloon().sizePages());
    assertEquals(0, end.integrityViolations(), "integrity violations");
    assertEquals(0, end.isolationViolations(), "isolation violations");
    assertEquals(0, rig.balloon().resets(), "the guest never touched a ballooned page");
    assertEquals(0, rig.vmSnapshot().counters().balloonFaults());
    assertEquals(0, rig.driver.stats().resets());
    assertNull(rig.cpuFailure.get());
    rig.machine.checkInvariants();
  }

  @Test
  void pagesThatNeverHadAFrameCostTheMachineNothingWhenBallooned() throws Exception {
    rig = new BalloonRig(dir, BalloonRig.machineConfig(dir, FRAMES));
    // Touches 300 pages once, then idles: 724 PFNs were never touched and have no frame.
    rig.boot("vm1", GUEST_PAGES, 1_024, new Sweep(300, 1, true, true));
    rig.awaitUntil("the process touched its pages", () -> rig.guest().accesses() == 300);
    assertEquals(300, rig.vmSnapshot().mappedPages());
    rig.startDriver(BalloonRig.driverConfig("vm1"));

    rig.setTarget(600);
    rig.awaitBalloon(600);
    rig.quiesce();

    BitSet taken = rig.kernel.held();
    BitSet touched = rig.onGuest(o -> rig.memory.touched());
    taken.and(touched);
    long tookWithFrames = taken.cardinality();
    assertEquals(0, tookWithFrames, "free pages were enough: the balloon took none of the process's pages");
    assertEquals(300 - tookWithFrames, rig.vmSnapshot().mappedPages());
    assertEquals(0, rig.guest().pageOuts(), "with free pages to spare the guest pages nothing out");
    assertEquals(GUEST_PAGES - 300 - 600, rig.guest().freePages());
    rig.machine.checkInvariants();
  }

  @Test
  void deflatesWhenTheTargetFallsAndTheGuestGetsFreshZeroedFramesOnItsNextTouch() throws Exception {
    Gated work = bootFullyTouchedGuest();
    rig.setTarget(400);
    rig.awaitBalloon(400);
    BitSet ballooned = rig.kernel.held();
    Guest inflated = rig.guest();
    long mappedInflated = rig.vmSnapshot().mappedPages();

    // Over the machine directly this time.
    rig.machine.setBalloonTarget(rig.machine.vmByName("vm1"), 100);
    rig.awaitBalloon(100);

    Guest deflated = rig.guest();
    BitSet released = (BitSet) ballooned.clone();
    released.andNot(rig.kernel.held());
    assertEquals(300, released.cardinality());
    assertEquals(inflated.freePages() + 300, deflated.freePages(), "the pages went back to the guest's free list");
    VmSnapshot vm = rig.vmSnapshot();
    assertEquals(300, vm.balloon().unlockedTotal(), "the driver told the hypervisor before freeing");
    // The driver counts its unlocks once it has handed the pages back, a moment after the guest has them.
    BalloonRig.eventually().alias("the driver counted its unlocks")
        .until(() -> rig.driver.stats().pagesUnlocked() == 300);
    assertTrue(rig.driver.stats().deflations() >= 1);
    assertEquals(mappedInflated, vm.mappedPages(), "unlocking maps nothing until a page is touched");

    // The hypervisor backs a released page afresh: a zeroed frame, not what the page held before the balloon.
    int probe = released.nextSetBit(0);
    long zeroFaults = vm.counters().demandZeroFaults();
    assertEquals(0L, rig.readOnMachine(probe));
    assertEquals(zeroFaults + 1, rig.vmSnapshot().counters().demandZeroFaults());

    // The workload takes the pages back; each gets its frame on its first touch, and every read is right.
    rig.onGuest(o -> {
      rig.memory.mark();
      return null;
    });
    work.open();
    rig.awaitUntil("the guest touched every released page", () -> rig.onGuest(o -> {
      BitSet missing = (BitSet) released.clone();
      missing.andNot(rig.memory.touchedSinceMark());
      return missing.isEmpty();
    }));
    work.close();
    Guest end = rig.verifyAll();
    vm = rig.vmSnapshot();
    assertEquals(zeroFaults + 300, vm.counters().demandZeroFaults(),
        "one demand-zero fault per released page, and no other hidden fault");
    assertEquals(0, vm.counters().hostSwapInFaults());
    assertEquals(0, end.integrityViolations(), "integrity violations");
    assertEquals(0, end.isolationViolations(), "isolation violations");
    assertEquals(100, end.balloonPages());
    assertEquals(100, vm.balloon().sizePages());
    assertEquals(0, vm.balloon().resets());
    assertEquals(GUEST_PAGES - 100, vm.mappedPages(), "every PFN outside the balloon has its frame again");
    rig.machine.checkInvariants();
  }

  @Test
  void deflatesToNothingWhenTheTargetDropsToZero() throws Exception {
    bootFullyTouchedGuest();
    rig.setTarget(300);
    rig.awaitBalloon(300);
    rig.setTarget(0);
    rig.awaitBalloon(0);
    Guest g = rig.guest();
    assertEquals(0, g.balloonPages());
    BalloonSnapshot b = rig.balloon();
    assertEquals(300, b.lockedTotal());
    assertEquals(300, b.unlockedTotal());
    assertTrue(rig.kernel.held().isEmpty());
    rig.machine.checkInvariants();
  }

  @ParameterizedTest(name = "cap {0}: target {1} stops at {2}")
  @CsvSource({"0.65, 900, 665", "0.30, 500, 307"})
  void aTargetAboveTheCapStopsAtTheCapAndTheVmShowsUncooperative(double cap, long target, long expected)
      throws Exception {
    // A stall timeout of one millisecond: any VM short of its target is uncooperative almost at once.
    rig = new BalloonRig(dir, BalloonRig.machineConfig(dir, FRAMES, 1_000_000L));
    rig.boot("vm1", GUEST_PAGES, 1_024, new Gated(new Hot(200, 0.5), false));
    BalloonDriver driver = rig.startDriver(BalloonRig.driverConfig("vm1").withCapFraction(cap));
    assertEquals(expected, (long) Math.floor(cap * GUEST_PAGES), "the expected cap");

    rig.setTarget(target);
    rig.awaitBalloon(expected);
    rig.awaitUntil("the machine sees the VM as uncooperative", () -> rig.balloon().uncooperative());
    // It stays at the cap round after round.
    rig.awaitRounds(3);
    BalloonSnapshot b = rig.balloon();
    assertEquals(target, b.targetPages());
    assertEquals(expected, b.sizePages());
    assertTrue(b.uncooperative());
    assertEquals(0, b.refusedPages(), "the driver never asked beyond its cap");
    DriverStats s = driver.stats();
    assertEquals(expected, s.capPages());
    assertEquals(target, s.targetPages());
    assertEquals(expected, s.sizePages());
    assertEquals(expected, s.pagesLocked());
    assertEquals(expected, rig.guest().balloonPages());
    assertFalse(s.stuck());

    // Back within the cap, the VM is cooperative again.
    rig.setTarget(expected - 10);
    rig.awaitBalloon(expected - 10);
    rig.awaitUntil("cooperative again", () -> !rig.balloon().uncooperative());
  }
}
