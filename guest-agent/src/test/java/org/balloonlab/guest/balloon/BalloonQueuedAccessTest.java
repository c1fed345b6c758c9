package org.balloonlab.guest.balloon;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.balloonlab.guest.balloon.BalloonRig.Guest;
import org.balloonlab.guest.balloon.TestWorkloads.Gated;
import org.balloonlab.guest.balloon.TestWorkloads.Sweep;
import org.balloonlab.hypervisor.machine.VmSnapshot;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The access stream and the balloon channel are two independent channels. The guest pipelines its accesses, so a
 * page it has just let go of may still have accesses queued (not yet sent) when the balloon takes it. Those
 * accesses must reach the hypervisor before the driver locks the page; otherwise they land on a ballooned page
 * and the hypervisor resets a balloon the guest never touched.
 *
 * <p>Both tests keep the guest from sending on its own (no periodic report, batches larger than the traffic), so
 * the queued accesses wait until the test flushes them: what happens is decided by ordering alone.
 */
class BalloonQueuedAccessTest {
  @TempDir
  Path dir;

  private BalloonRig rig;

  @AfterEach
  void tearDown() throws Exception {
    if (rig != null) {
      rig.close();
    }
  }

  private void awaitFirstReport() {
    rig.awaitUntil("the vCPU's first report went out", () -> rig.vcpu.lastStatus() != null);
  }

  @Test
  void pagesOfAProcessThatJustExitedAreBalloonedWithoutAReset() throws Exception {
    rig = new BalloonRig(dir, BalloonRig.machineConfig(dir, 1_024));
    // 100 pages written once (100 zero-fills and 100 writes, 200 accesses: less than one batch), then exit.
    Gated writer = new Gated(new Sweep(100, 1, true, false), false);
    rig.boot("vm1", 256, 256, BalloonRig.NEVER, TestWorkloads.idle(), writer);
    awaitFirstReport();
    rig.startDriver(BalloonRig.driverConfig("vm1"));

    writer.open();
    rig.awaitUntil("the writer exited", () -> rig.onGuest(o -> rig.processes.get(1).exited()));
    assertEquals(0, rig.vmSnapshot().counters().accesses(), "precondition: the writer's accesses are still queued");

    // The exited process's pages sit on top of the free list: the balloon takes exactly those.
    rig.setTarget(100);
    rig.awaitUntil("the balloon holds 100 pages", () -> rig.balloon().sizePages() == 100 && rig.driver.size() == 100);
    rig.quiesce();
    rig.awaitBalloon(100);

    VmSnapshot vm = rig.vmSnapshot();
    assertEquals(0, vm.counters().balloonFaults(), "no access landed on a ballooned page");
    assertEquals(0, vm.balloon().resets(), "the hypervisor had no reason to reset the balloon");
    assertEquals(0, rig.driver.stats().resets());
    assertEquals(0, vm.mappedPages(), "the pages' frames went back to the machine");
    Guest g = rig.guest();
    assertEquals(0, g.integrityViolations());
    rig.machine.checkInvariants();
  }

  @Test
  void cleanPagesTheGuestDropsToFeedTheBalloonAreBalloonedWithoutAReset() throws Exception {
    rig = new BalloonRig(dir, BalloonRig.machineConfig(dir, 1_024));
    // Reads all 64 pages of the guest once (each first touch zero-fills: 128 accesses, less than one batch), then
    // idles holding them. Never written, they are clean: the reclaim drops them without reading them back.
    Gated reader = new Gated(new Sweep(64, 1, false, true), false);
    rig.boot("vm1", 64, 64, BalloonRig.NEVER, reader);
    awaitFirstReport();
    rig.startDriver(BalloonRig.driverConfig("vm1"));

    reader.open();
    rig.awaitUntil("the reader touched every page", () -> rig.onGuest(o -> o.freePages() == 0
        && o.counters().accesses() == 64));
    assertEquals(0, rig.vmSnapshot().counters().accesses(), "precondition: the reader's accesses are still queued");

    rig.setTarget(32);
    rig.awaitUntil("the balloon holds 32 pages", () -> rig.balloon().sizePages() == 32 && rig.driver.size() == 32);
    rig.quiesce();
    rig.awaitBalloon(32);

    VmSnapshot vm = rig.vmSnapshot();
    assertEquals(32, rig.guest().zeroPagesDropped(), "precondition: the guest fed the balloon with dropped pages");
    assertEquals(0, vm.counters().balloonFaults(), "no access landed on a ballooned page");
    assertEquals(0, vm.balloon().resets(), "the hypervisor had no reason to reset the balloon");
    assertEquals(0, rig.driver.stats().resets());
    assertEquals(32, vm.mappedPages());
    rig.machine.checkInvariants();
  }
}
