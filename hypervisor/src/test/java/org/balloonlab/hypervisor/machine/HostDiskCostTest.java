package org.balloonlab.hypervisor.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import org.balloonlab.hypervisor.mmu.TlbConfig;
import org.balloonlab.hypervisor.policy.ReclamationSettings;
import org.balloonlab.hypervisor.time.CostModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Who pays for the host swap disk (issue 13 item 2): the policy's page-outs and the reserved pages the hypervisor
 * reads back occupy the disk on the account of the VM whose memory they are, and that VM's next batch waits for
 * them; a page-out made for a fault is paid by the batch that waited for the frame, and a page-in by the batch
 * that touched the page, as before.
 */
class HostDiskCostTest {
  private static final int FRAMES = 1000;
  private static final CostModel COSTS = MachineBalloonTest.COSTS;

  @TempDir
  Path dir;

  /** Lab time: the machine's clock, moved by the test only. */
  private final AtomicLong lab = new AtomicLong(1_000_000_000L);
  private Machine machine;

  private Machine newMachine(ReclamationSettings settings, long stallNanos) {
    machine = new Machine(new MachineConfig(FRAMES, 4 * FRAMES, dir.resolve("host.swap"), 4096, COSTS, 42, 64,
        stallNanos, settings), TlbConfig.DEFAULT, lab::get);
    return machine;
  }

  @AfterEach
  void close() {
    if (machine != null) {
      machine.close();
    }
  }

  private BatchResult write(Vm vm, int from, int to) {
    int[] pfns = MachineBalloonTest.range(from, to);
    byte[] ops = new byte[pfns.length];
    Arrays.fill(ops, AccessOps.WRITE);
    long[] values = new long[pfns.length];
    for (int i = 0; i < pfns.length; i++) {
      values[i] = MachineBalloonTest.token(vm.id(), pfns[i]);
    }
    BatchResult result = new BatchResult();
    machine.validateBatch(vm, pfns.length, ops, pfns, pfns.length);
    machine.applyBatch(vm, pfns.length, ops, pfns, values, new long[0], result);
    machine.checkInvariants();
    return result;
  }

  private long diskWait(Vm vm) {
    return machine.vm(vm.id()).reclamation().hostDiskWaitNs();
  }

  @Test
  void thePolicysPageOutsAreChargedToTheVmWhosePagesTheyAre() {
    newMachine(ReclamationSettings.ESX, 1);
    Vm big = machine.powerOn("big", "linux", 800, 0, 100);
    Vm small = machine.powerOn("small", "linux", 800, 0, 100);
    write(big, 0, 600);
    write(small, 0, 370);
    machine.rebalance();
    lab.addAndGet(10_000_000); // the next boundary: big's balloon made no progress, the hypervisor pages it
    machine.rebalance();
    long paged = machine.vm(big.id()).reclamation().policyPageOuts();
    assertTrue(paged > 0, "big was paged to its target");
    assertEquals(0, machine.vm(small.id()).reclamation().policyPageOuts());

    // Same quantum: big's first batch waits for the disk to write its pages; small's does not.
    BatchResult smallBatch = write(small, 0, 1);
    assertEquals(0, diskWait(small), "small's memory was not paged: it waits for nothing");
    long zeroOnly = smallBatch.hypervisorNs();
    BatchResult bigBatch = write(big, 599, 600);
    long expected = paged * COSTS.hostSwapWriteNs();
    assertEquals(expected, diskWait(big));
    assertTrue(bigBatch.hypervisorNs() >= expected, "the wait is in the batch's simulated time");
    assertTrue(zeroOnly < expected);

    // Paid once: the next batch does not wait again.
    write(big, 0, 1);
    assertEquals(expected, diskWait(big));
  }

  @Test
  void aVmIdleWhileTheDiskWorkedWaitsForWhatIsLeft() {
    newMachine(ReclamationSettings.ESX, 1);
    Vm big = machine.powerOn("big", "linux", 800, 0, 100);
    Vm small = machine.powerOn("small", "linux", 800, 0, 100);
    write(big, 0, 600);
    write(small, 0, 370);
    machine.rebalance();
    lab.addAndGet(10_000_000);
    machine.rebalance();
    long busy = machine.vm(big.id()).reclamation().policyPageOuts() * COSTS.hostSwapWriteNs();
    lab.addAndGet(busy - 1_000); // big sent nothing for almost as long as the disk needed
    write(big, 0, 1);
    assertEquals(1_000, diskWait(big), "it waits only for the end of the writes");
    lab.addAndGet(busy);
    write(big, 0, 1);
    assertEquals(1_000, diskWait(big));
  }

  @Test
  void aPageInIsPaidByTheVmThatTouchesItsPage() {
    newMachine(ReclamationSettings.ESX, 1);
    Vm big = machine.powerOn("big", "linux", 800, 0, 100);
    Vm small = machine.powerOn("small", "linux", 800, 0, 100);
    write(big, 0, 600);
    write(small, 0, 370);
    machine.rebalance();
    lab.addAndGet(10_000_000);
    machine.rebalance();
    lab.addAndGet(1_000_000_000); // the disk finished long ago: only the page-ins are left to pay
    long swapped = machine.vm(big.id()).hostSwappedPages();
    assertTrue(swapped > 0);
    long before = machine.vm(big.id()).counters().hypervisorNs();
    write(big, 0, 600); // every page, the paged ones read back
    long paid = machine.vm(big.id()).counters().hypervisorNs() - before;
    assertTrue(paid >= swapped * COSTS.hostSwapReadNs(), paid + " ns for " + swapped + " page-ins");
    assertEquals(0, diskWait(big), "no page-out left to wait for");
    long smallBefore = machine.vm(small.id()).counters().hypervisorNs();
    write(small, 0, 370);
    assertTrue(machine.vm(small.id()).counters().hypervisorNs() - smallBefore < COSTS.hostSwapReadNs(),
        "small's own pages were never out: it pays no read");
  }

  @Test
  void reservedPagesTheHypervisorReadsBackAreChargedToTheirVm() {
    newMachine(ReclamationSettings.MANUAL, Long.MAX_VALUE);
    Vm reserved = machine.powerOn("reserved", "linux", 800, 500, 0);
    Vm other = machine.powerOn("other", "linux", 800, 400, 0);
    write(reserved, 0, 600);
    write(other, 0, 450); // 50 frames short: reserved holds the most above its min and is paged 50
    assertEquals(50, machine.vm(reserved.id()).hostSwappedPages());
    // Its balloon then takes 300 pages (backed ones among them), leaving it below its min.
    long session = machine.openBalloonSession(reserved, true, true, true).id();
    machine.setBalloonTarget(reserved, 300);
    for (int from = 300; from < 600; from += 60) {
      int[] pfns = MachineBalloonTest.range(from, from + 60);
      machine.balloonMove(reserved, session, 0, true, pfns, pfns.length, new BalloonPageStatus[pfns.length]);
    }
    long mapped = machine.vm(reserved.id()).mappedPages();
    long swapped = machine.vm(reserved.id()).hostSwappedPages();
    assertTrue(mapped < 500 && swapped > 0, "below its min with pages in host swap: " + mapped + ", " + swapped);
    machine.rebalance(); // frames are free: the hypervisor reads its reserved pages back
    long readBack = swapped - machine.vm(reserved.id()).hostSwappedPages();
    assertTrue(readBack > 0, "read back: " + readBack);
    write(reserved, 0, 1);
    assertEquals(readBack * COSTS.hostSwapReadNs(), diskWait(reserved), "the reads on its account");
    write(other, 0, 1);
    assertEquals(0, diskWait(other));
  }

  @Test
  void aFaultsPageOutIsPaidByTheFaultingBatchNotTheVictim() {
    newMachine(ReclamationSettings.MANUAL, Long.MAX_VALUE);
    Vm victim = machine.powerOn("victim", "linux", 1200, 0, 0);
    Vm faulter = machine.powerOn("faulter", "linux", 800, 0, 0);
    write(victim, 0, 900);
    BatchResult b = write(faulter, 0, 200); // 100 frames short
    assertTrue(b.hypervisorNs() >= 100 * COSTS.hostSwapWriteNs());
    write(victim, 899, 900);
    assertEquals(0, diskWait(victim), "the victim waits for nothing until it touches a paged page");
  }
}
