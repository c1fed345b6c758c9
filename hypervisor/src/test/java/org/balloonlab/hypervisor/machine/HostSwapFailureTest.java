package org.balloonlab.hypervisor.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.balloonlab.hypervisor.event.EventKind;
import org.balloonlab.hypervisor.event.EventLog;
import org.balloonlab.hypervisor.event.MachineEvent;
import org.balloonlab.hypervisor.mmu.TlbConfig;
import org.balloonlab.hypervisor.policy.ReclamationSettings;
import org.balloonlab.swap.SwapDevice;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The host swap failing under a running machine: the VM whose page could not be written or read back is powered
 * off cleanly with a status saying why, hypervisor paging stops, the failure is told once, and the other VMs run on.
 */
class HostSwapFailureTest {
  private static final int FRAMES = 100;
  private static final int SLOTS = 400;

  private final FailingSlotStore store = new FailingSlotStore(SLOTS);
  private Machine machine;

  private Machine newMachine(ReclamationSettings settings, long stallNanos) {
    return newMachine(settings, stallNanos, SharingSettings.OFF);
  }

  private Machine newMachine(ReclamationSettings settings, long stallNanos, SharingSettings sharing) {
    MachineConfig config = new MachineConfig(FRAMES, SLOTS, Path.of("/host-swap/test.swap"), 4096,
        MachineBalloonTest.COSTS, 42, 64, stallNanos, settings).withSharing(sharing);
    machine = new Machine(config, TlbConfig.DEFAULT, System::nanoTime,
        new SwapDevice(config.hostSwapFile(), store, SLOTS));
    return machine;
  }

  @AfterEach
  void close() {
    if (machine != null) {
      machine.checkInvariants();
      machine.close();
    }
  }

  private long[] access(Vm vm, byte op, int from, int to) {
    int[] pfns = MachineBalloonTest.range(from, to);
    byte[] ops = new byte[pfns.length];
    Arrays.fill(ops, op);
    int writes = op == AccessOps.WRITE ? pfns.length : 0;
    long[] values = new long[writes];
    for (int i = 0; i < writes; i++) {
      values[i] = MachineBalloonTest.token(vm.id(), pfns[i]);
    }
    long[] reads = new long[pfns.length];
    machine.validateBatch(vm, pfns.length, ops, pfns, writes);
    machine.applyBatch(vm, pfns.length, ops, pfns, values, reads, new BatchResult());
    machine.checkInvariants();
    return reads;
  }

  private void write(Vm vm, int from, int to) {
    access(vm, AccessOps.WRITE, from, to);
  }

  /** Writes content every VM holds alike at these PFNs, as an OS image is: pages the scanner can share. */
  private void writeImage(Vm vm, int from, int to) {
    int[] pfns = MachineBalloonTest.range(from, to);
    byte[] ops = new byte[pfns.length];
    Arrays.fill(ops, AccessOps.WRITE);
    long[] values = new long[pfns.length];
    for (int i = 0; i < pfns.length; i++) {
      values[i] = image(pfns[i]);
    }
    machine.validateBatch(vm, pfns.length, ops, pfns, pfns.length);
    machine.applyBatch(vm, pfns.length, ops, pfns, values, new long[pfns.length], new BatchResult());
    machine.checkInvariants();
  }

  private static long image(int pfn) {
    return 0x1000_0000_0000L + pfn;
  }

  private void readChecked(Vm vm, int from, int to) {
    long[] reads = access(vm, AccessOps.READ, from, to);
    for (int pfn = from; pfn < to; pfn++) {
      assertEquals(MachineBalloonTest.token(vm.id(), pfn), reads[pfn - from], "PFN " + pfn + " kept its content");
    }
  }

  private MachineException refused(MachineException.Reason reason, Runnable call) {
    MachineException e = assertThrows(MachineException.class, call::run);
    assertEquals(reason, e.reason(), e.getMessage());
    return e;
  }

  private List<MachineEvent> events(EventKind kind) {
    EventLog.Slice slice = machine.events().after(0, EventLog.DEFAULT_CAPACITY);
    return slice.events().stream().filter(e -> e.kind() == kind).toList();
  }

  private boolean on(Vm vm) {
    return machine.snapshot().vms().stream().anyMatch(v -> v.id() == vm.id());
  }

  @Test
  void aPageThatCannotBeReadBackPowersItsVmOffWithDataLoss() {
    newMachine(ReclamationSettings.ESX, Long.MAX_VALUE);
    Vm a = machine.powerOn("a", "linux", 100);
    Vm b = machine.powerOn("b", "linux", 100);
    write(a, 0, 100);
    write(b, 0, 50); // every frame is taken: a's pages go to host swap to make room
    assertEquals(50, machine.vm(a.id()).hostSwappedPages());
    store.failReads = true;

    MachineException e = refused(MachineException.Reason.DATA_LOSS, () -> access(a, AccessOps.READ, 0, 100));
    assertTrue(e.poweredOff().isPresent(), "the guest is told its VM is off");
    assertTrue(e.getMessage().contains("host swap") && e.poweredOff().get().why().contains("could not be read back"),
        e.getMessage());
    assertFalse(on(a));
    MachineSnapshot s = machine.snapshot();
    assertEquals(50, s.freeFrames(), "a's frames are back, the one taken for the failed page-in too");
    assertEquals(0, s.hostSwapUsed(), "a's host swap slots are released");
    // Its guest's next request is refused with the same code, still saying why.
    MachineException next = refused(MachineException.Reason.DATA_LOSS, () -> write(a, 0, 1));
    assertTrue(next.poweredOff().isPresent());

    readChecked(b, 0, 50);
    write(b, 50, 100); // b runs on in memory a gave back
    readChecked(b, 0, 100);
    assertEquals(1, events(EventKind.HOST_SWAP_FAILED).size());
  }

  @Test
  void aPageThatCannotBeWrittenPowersItsVmOffAndTheFaultingVmRunsOn() {
    newMachine(ReclamationSettings.ESX, Long.MAX_VALUE);
    Vm a = machine.powerOn("a", "linux", 100);
    Vm b = machine.powerOn("b", "linux", 100);
    write(a, 0, 100);
    store.failWrites = true;

    write(b, 0, 10); // needs frames: a's page-out fails, a is powered off, and b gets a's frames
    assertFalse(on(a));
    readChecked(b, 0, 10);
    MachineException e = refused(MachineException.Reason.RESOURCE_EXHAUSTED, () -> write(a, 0, 1));
    assertTrue(e.poweredOff().isPresent());
    assertTrue(e.poweredOff().get().why().contains("could not be written"), e.poweredOff().get().why());

    // Paging has stopped: no more writes are tried, and a batch that memory alone cannot hold is refused up front.
    int writes = store.writes;
    write(b, 10, 100);
    Vm c = machine.powerOn("c", "linux", 100);
    MachineException full = refused(MachineException.Reason.RESOURCE_EXHAUSTED, () -> write(c, 0, 1));
    assertTrue(full.getMessage().contains("host swap has failed"), full.getMessage());
    assertTrue(on(c), "a refused batch changes nothing");
    assertEquals(writes, store.writes, "nothing more was written to a failed host swap");
    readChecked(b, 0, 100);
    assertEquals(1, events(EventKind.HOST_SWAP_FAILED).size(), "the failure is told once");
  }

  @Test
  void aVmWhosePageOutFailsInItsOwnBatchIsPoweredOff() {
    newMachine(ReclamationSettings.ESX, Long.MAX_VALUE);
    Vm a = machine.powerOn("a", "linux", 200);
    write(a, 0, 100);
    store.failWrites = true;
    MachineException e = refused(MachineException.Reason.RESOURCE_EXHAUSTED, () -> write(a, 100, 110));
    assertTrue(e.poweredOff().isPresent());
    assertFalse(on(a));
    assertEquals(FRAMES, machine.snapshot().freeFrames());
  }

  @Test
  void thePolicyStopsPagingToAFailedHostSwapAndSaysSoOnce() {
    newMachine(ReclamationSettings.ESX, 1);
    Vm big = machine.powerOn("big", "linux", 80, 0, 100);
    Vm small = machine.powerOn("small", "linux", 80, 0, 100);
    write(big, 0, 60);
    write(small, 0, 37);
    store.failWrites = true;
    machine.rebalance(); // sets the target; the driver's stall clock starts now
    machine.rebalance(); // no driver made progress: the hypervisor pages big, and the page-out fails
    assertFalse(on(big), "the VM whose page could not be written is powered off");
    assertTrue(on(small));
    int writes = store.writes;
    for (int i = 0; i < 5; i++) {
      machine.rebalance();
    }
    assertEquals(writes, store.writes, "the policy does not page to a failed host swap");
    assertEquals(1, events(EventKind.HOST_SWAP_FAILED).size());
    readChecked(small, 0, 37);
    assertEquals(0, machine.snapshot().policyPageOuts(), "a page-out that failed is not counted");
  }

  @Test
  void aVmPoweredOffByAFailedPageOutDropsItsSharedReferencesAndTheOthersKeepTheFrames() {
    newMachine(ReclamationSettings.ESX, Long.MAX_VALUE, SharingSettings.ON);
    Vm a = machine.powerOn("a", "linux", 100);
    Vm b = machine.powerOn("b", "linux", 100);
    writeImage(a, 0, 30);
    write(a, 30, 70);
    writeImage(b, 0, 30); // every frame is taken
    for (int tick = 0; tick < 100 && machine.snapshot().sharing().savedFrames() < 30; tick++) {
      machine.scanForSharing(100_000_000L);
    }
    assertEquals(30, machine.snapshot().sharing().savedFrames(), "the 30 image pages share 30 frames");
    assertEquals(30, machine.snapshot().freeFrames());
    store.failWrites = true;

    Vm c = machine.powerOn("c", "linux", 100);
    write(c, 0, 40); // 30 free frames, then a page-out of a (the VM most over its target) fails: a goes off
    assertFalse(on(a));
    machine.checkInvariants();
    SharingSnapshot sharing = machine.snapshot().sharing();
    assertEquals(30, sharing.sharedFrames(), "b still maps every frame a shared with it");
    assertEquals(30, sharing.sharedReferences(), "a's references went with it");
    assertEquals(0, sharing.savedFrames());
    assertEquals(30, machine.vm(b.id()).sharing().sharedPages());
    assertEquals(FRAMES - 30 - 40, machine.snapshot().freeFrames(), "a's private frames are free, the shared kept");
    long[] reads = access(b, AccessOps.READ, 0, 30);
    for (int pfn = 0; pfn < 30; pfn++) {
      assertEquals(image(pfn), reads[pfn], "b reads its image page " + pfn);
    }
    // b is the last holder of each: a write takes the frame as b's own, with no copy and no frame taken.
    write(b, 0, 30);
    readChecked(b, 0, 30);
    assertEquals(0, machine.snapshot().sharing().sharedFrames());
    assertEquals(FRAMES - 30 - 40, machine.snapshot().freeFrames());
    readChecked(c, 0, 40);
  }
}
