package org.balloonlab.guest.balloon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.balloonlab.balloon.driver.BalloonDriver;
import org.balloonlab.balloon.driver.DriverStats;
import org.balloonlab.domain.DriverMode;
import org.balloonlab.domain.DriverMode.Kind;
import org.balloonlab.guest.balloon.BalloonRig.Guest;
import org.balloonlab.guest.balloon.TestWorkloads.Gated;
import org.balloonlab.guest.balloon.TestWorkloads.Hot;
import org.balloonlab.guest.balloon.TestWorkloads.Sweep;
import org.balloonlab.hypervisor.machine.BalloonSnapshot;
import org.balloonlab.hypervisor.machine.VmSnapshot;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The balloon reset (the hypervisor loses track) and deflate-on-OOM, end to end. */
class BalloonResetAndOomTest {
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

  // ------------------------------------------------------------------------------------------------ reset

  /**
   * The guest OS never touches a balloon page (they are pinned), so the reset is provoked from the machine's
   * side: a read applied straight to a ballooned PFN of the VM, as if the hypervisor had lost track of it.
   */
  @Test
  void aTouchedBalloonPageResetsTheBalloonAndTheDriverFreesEveryPageWithoutUnlockingThenStartsOver()
      throws Exception {
    rig = new BalloonRig(dir, BalloonRig.machineConfig(dir, FRAMES));
    Gated work = new Gated(new Hot(600, 0.5), true);
    rig.boot("vm1", 1_024, 2_048, work);
    BalloonDriver driver = rig.startDriver(BalloonRig.driverConfig("vm1"));
    rig.setTarget(300);
    rig.awaitBalloon(300);
    long sessionBefore = rig.balloon().sessionId();
    assertEquals(1, driver.stats().sessionsStarted());

    // Keep the driver from inflating again at once, so the guest's empty balloon can be seen.
    rig.requestMode(org.balloonlab.proto.DriverMode.DRIVER_MODE_DISABLED);
    rig.awaitUntil("the driver is disabled", () -> driver.stats().mode().kind() == Kind.DISABLED);

    int pfn = rig.kernel.held().nextSetBit(0);
    assertEquals(0L, rig.readOnMachine(pfn), "a ballooned page reads as a fresh zeroed frame");
    VmSnapshot vm = rig.vmSnapshot();
    assertEquals(1, vm.balloon().resets());
    assertEquals(1, vm.counters().balloonFaults());
    assertEquals(0, vm.balloon().sizePages(), "the hypervisor forgot the whole balloon");

    // The doorbell brings the reset: every page goes back to the guest, none is unlocked, a new session opens.
    rig.awaitUntil("the driver reset", () -> driver.stats().resets() == 1 && driver.stats().sessionsStarted() == 2);
    rig.awaitBalloon(0);
    DriverStats s = driver.stats();
    assertEquals(300, s.resetPages());
    assertEquals(0, s.pagesUnlocked(), "a reset frees without unlocking");
    assertEquals(0, rig.balloon().unlockedTotal());
    assertEquals(0, rig.guest().balloonPages());
    assertTrue(rig.kernel.held().isEmpty());
    assertTrue(rig.balloon().sessionId() != sessionBefore, "the driver started over in a new session");
    assertTrue(rig.balloon().driverConnected());

    // Enabled again, it inflates to the target from scratch.
    rig.requestMode(org.balloonlab.proto.DriverMode.DRIVER_MODE_ENABLED);
    rig.awaitBalloon(300);
    BalloonSnapshot b = rig.balloon();
    assertEquals(600, b.lockedTotal());
    assertEquals(0, b.unlockedTotal());
    assertEquals(1, b.resets());
    assertEquals(600, driver.stats().pagesLocked());

    work.close();
    Guest end = rig.verifyAll();
    assertEquals(0, end.integrityViolations(), "integrity violations");
    assertEquals(0, end.isolationViolations(), "isolation violations");
    assertNull(rig.cpuFailure.get());
    rig.machine.checkInvariants();
  }

  @Test
  void aResetWhileTheWorkloadRunsEndsWithTheBalloonBackAtItsTargetAndNoViolation() throws Exception {
    rig = new BalloonRig(dir, BalloonRig.machineConfig(dir, FRAMES));
    // The workload fits beside the balloon, so the guest never reclaims for it (see BalloonQueuedAccessTest for
    // why a reclaim feeding the balloon could add a reset of its own).
    Gated work = new Gated(new Hot(500, 0.5), true);
    rig.boot("vm1", 1_024, 2_048, work);
    BalloonDriver driver = rig.startDriver(BalloonRig.driverConfig("vm1"));
    rig.setTarget(500);
    rig.awaitBalloon(500);
    long accesses = rig.guest().accesses();

    rig.readOnMachine(rig.kernel.held().nextSetBit(0));

    rig.awaitUntil("the driver reset and re-inflated", () -> driver.stats().resets() == 1
        && driver.stats().sessionsStarted() == 2 && driver.stats().pagesLocked() == 1_000);
    rig.awaitBalloon(500);
    rig.awaitAccesses(accesses, 30_000);
    work.close();
    Guest end = rig.verifyAll();
    BalloonSnapshot b = rig.balloon();
    assertEquals(1, b.resets());
    assertEquals(1_000, b.lockedTotal());
    assertEquals(0, b.unlockedTotal());
    assertEquals(500, driver.stats().resetPages());
    assertEquals(0, end.integrityViolations(), "integrity violations");
    assertEquals(0, end.isolationViolations(), "isolation violations");
    assertNull(rig.cpuFailure.get());
    rig.machine.checkInvariants();
  }

  // ------------------------------------------------------------------------------------------------ OOM

  static final int OOM_GUEST_PAGES = 512;
  static final int OOM_SWAP = 16;
  static final int OOM_TARGET = 300;
  /** Dirty pages the writer keeps: more than the 212 pages left beside the balloon plus the 16 of swap. */
  static final int OOM_FOOTPRINT = 400;

  /** Boots a small guest with a tiny swap and inflates its balloon over most of its memory. */
  private Gated bootBalloonedGuestWithTinySwap(BalloonDriver.Config config) throws Exception {
    rig = new BalloonRig(dir, BalloonRig.machineConfig(dir, FRAMES));
    Gated writer = new Gated(new Sweep(OOM_FOOTPRINT, 0, true, false), false);
    rig.boot("vm1", OOM_GUEST_PAGES, OOM_SWAP, writer);
    rig.startDriver(config);
    rig.setTarget(OOM_TARGET);
    rig.awaitBalloon(OOM_TARGET);
    return writer;
  }

  @Test
  void aWorkloadThatOutgrowsWhatTheBalloonLeftGetsPagesBackFromTheBalloonInsteadOfAnOutOfMemoryError()
      throws Exception {
    Gated writer = bootBalloonedGuestWithTinySwap(BalloonRig.driverConfig("vm1"));
    BalloonDriver driver = rig.driver;
    // The driver keeps its pages but takes no more, so every page that leaves the balloon is an OOM release.
    driver.setMode(DriverMode.of(Kind.DISABLED));
    long start = rig.guest().accesses();

    writer.open();
    rig.awaitAccesses(start, 10 * OOM_FOOTPRINT);
    writer.close();
    Guest g = rig.verifyAll();

    assertNull(rig.cpuFailure.get(), "the workload never ran out of memory");
    assertTrue(rig.cpuAlive());
    long released = g.oomDeflations();
    assertTrue(released >= OOM_FOOTPRINT - OOM_SWAP - (OOM_GUEST_PAGES - OOM_TARGET),
        "the balloon gave back at least what the writer lacked, gave " + released);
    DriverStats s = driver.stats();
    assertEquals(released, s.oomPages(), "the OS counted what the driver gave");
    assertEquals(released, rig.kernel.oomReleased());
    assertTrue(s.oomDeflations() >= 1);
    assertEquals(0, s.oomUntold(), "the hypervisor was told about every page");
    BalloonSnapshot b = rig.balloon();
    assertEquals(released, b.unlockedTotal(), "unlocked at the hypervisor");
    assertEquals(OOM_TARGET - released, b.sizePages(), "the machine's balloon shrank by what the guest took");
    assertEquals(OOM_TARGET - released, g.balloonPages());
    assertEquals(OOM_TARGET - released, driver.size());
    assertEquals(0, b.resets(), "the guest touched no page the hypervisor still thought ballooned");
    assertEquals(0, g.integrityViolations(), "integrity violations");
    assertEquals(0, g.isolationViolations(), "isolation violations");
    rig.machine.checkInvariants();
  }

  @Test
  void anEnabledDriverThatKeepsWantingItsTargetStillLetsTheWorkloadRun() throws Exception {
    Gated writer = bootBalloonedGuestWithTinySwap(BalloonRig.driverConfig("vm1"));
    BalloonDriver driver = rig.driver;
    long start = rig.guest().accesses();

    writer.open();
    rig.awaitAccesses(start, 10 * OOM_FOOTPRINT);
    writer.close();
    rig.quiesce();
    // With the writer paused and the driver stopped, the three views of the balloon must agree.
    driver.stop();
    Guest g = rig.verifyAll();

    assertNull(rig.cpuFailure.get(), "the workload never ran out of memory");
    assertTrue(g.oomDeflations() > 0);
    assertEquals(g.oomDeflations(), driver.stats().oomPages());
    assertEquals(0, driver.stats().oomUntold());
    BalloonSnapshot b = rig.balloon();
    assertEquals(driver.size(), b.sizePages());
    assertEquals(g.balloonPages(), b.sizePages());
    assertEquals(rig.kernel.held().cardinality(), b.sizePages());
    assertTrue(b.sizePages() < OOM_TARGET, "the balloon is smaller than its target");
    assertEquals(b.lockedTotal() - b.unlockedTotal(), b.sizePages());
    assertEquals(0, b.resets());
    assertEquals(0, g.integrityViolations(), "integrity violations");
    assertEquals(0, g.isolationViolations(), "isolation violations");
    rig.machine.checkInvariants();
  }
}
