package org.balloonlab.hypervisor.machine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import org.balloonlab.hypervisor.mmu.MmuCounters;
import org.balloonlab.hypervisor.mmu.MmuSnapshot;
import org.balloonlab.hypervisor.mmu.Tlb;
import org.balloonlab.hypervisor.mmu.TlbConfig;
import org.balloonlab.hypervisor.mmu.TranslationMode;
import org.balloonlab.hypervisor.time.CostModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The machine's data path with address translation: page-table events in the batch, both modes side by side,
 * the shadow tables kept consistent through hypervisor paging and ballooning, and refused entries.
 */
class MachineTranslationTest {
  static final CostModel COSTS = new CostModel(1, 10, 1_000, 100, 7, 7, 20_000, 300_000, 1, 10, 500);
  static final int K = Tlb.GLOBAL_ASID;

  @TempDir
  Path dir;

  private Machine machine;

  private Machine newMachine(int frames, int slots) {
    machine = new Machine(new MachineConfig(frames, slots, dir.resolve("host.swap"), 4096, COSTS, 42, 64,
        Long.MAX_VALUE), new TlbConfig(32, 4, true));
    return machine;
  }

  private long startSession(Vm vm) {
    return machine.openBalloonSession(vm, true, true, true).id();
  }

  @AfterEach
  void closeMachine() {
    if (machine != null) {
      machine.close();
    }
  }

  /** A batch built entry by entry, as a guest's memory queues it. */
  static final class Entries {
    final byte[] ops = new byte[4096];
    final int[] pfns = new int[4096];
    final char[] asids = new char[4096];
    final int[] vpns = new int[4096];
    final long[] writes = new long[4096];
    int count;
    int writeCount;

    Entries add(byte op, int asid, int vpn, int pfn) {
      ops[count] = op;
      asids[count] = (char) asid;
      vpns[count] = vpn;
      pfns[count] = pfn;
      count++;
      return this;
    }

    Entries write(int asid, int vpn, int pfn, long value) {
      writes[writeCount++] = value;
      return add(AccessOps.WRITE, asid, vpn, pfn);
    }

    Entries read(int asid, int vpn, int pfn) {
      return add(AccessOps.READ, asid, vpn, pfn);
    }

    /** What a guest sends for a first touch: fault, the kernel zeroes the page, map, the process's write. */
    Entries firstTouch(int asid, int vpn, int pfn, long value) {
      add(AccessOps.GUEST_PAGE_FAULT, asid, vpn, 0);
      write(K, pfn, pfn, 0L);
      add(AccessOps.PT_MAP, asid, vpn, pfn);
      return write(asid, vpn, pfn, value);
    }
  }

  private long[] apply(Vm vm, Entries e, BatchResult result) {
    machine.validateBatch(vm, e.count, e.ops, e.pfns, e.asids, e.vpns, e.writeCount);
    long[] reads = new long[e.count];
    machine.applyBatch(vm, e.count, e.ops, e.pfns, e.asids, e.vpns, e.writes, reads, result);
    machine.checkInvariants();
    return Arrays.copyOf(reads, result.reads());
  }

  private long[] apply(Vm vm, Entries e) {
    return apply(vm, e, new BatchResult());
  }

  static long token(int asid, int vpn) {
    return 0x8000_0000_0000_0000L | ((long) asid << 32) | vpn;
  }

  /** Two processes each touch 40 pages, then read them back twice, switching between them. */
  private long[] runWorkload(Vm vm) {
    Entries e = new Entries();
    for (int asid = 0; asid < 2; asid++) {
      e.add(AccessOps.AS_SWITCH, asid, 0, 0);
      for (int vpn = 0; vpn < 40; vpn++) {
        e.firstTouch(asid, vpn, asid * 40 + vpn, token(asid, vpn));
      }
    }
    for (int round = 0; round < 2; round++) {
      for (int asid = 0; asid < 2; asid++) {
        e.add(AccessOps.AS_SWITCH, asid, 0, 0);
        for (int vpn = 0; vpn < 40; vpn++) {
          e.read(asid, vpn, asid * 40 + vpn);
        }
      }
    }
    return apply(vm, e);
  }

  @Test
  void bothModesReadTheSameDataAndOnlyShadowExitsOnPageTableWritesAndSwitches() {
    newMachine(1024, 1024);
    Vm nested = machine.powerOn("nested", "linux", 128, TranslationMode.NESTED);
    Vm shadow = machine.powerOn("shadow", "linux", 128, TranslationMode.SHADOW);
    long[] nestedReads = runWorkload(nested);
    long[] shadowReads = runWorkload(shadow);
    assertArrayEquals(nestedReads, shadowReads);
    for (int i = 0; i < nestedReads.length; i++) {
      assertEquals(token((i / 40) % 2, i % 40), nestedReads[i]);
    }
    MmuCounters n = machine.vm(nested.id()).mmu().counters();
    MmuCounters s = machine.vm(shadow.id()).mmu().counters();
    assertEquals(0, n.exitsPageTableWrite());
    assertEquals(0, n.exitsContextSwitch());
    assertEquals(0, n.exitsGuestPageFault());
    assertEquals(80, s.exitsPageTableWrite(), "one map per page");
    assertEquals(6, s.exitsContextSwitch());
    assertEquals(80, s.exitsGuestPageFault());
    assertEquals(80, s.reflectedFaults());
    assertEquals(80, n.exitsP2mFault(), "demand-zero faults exit in both modes");
    assertEquals(80, s.exitsP2mFault());
    assertEquals(n.tlbMisses(), s.tlbMisses(), "the same TLB sees the same accesses");
    assertEquals(24.0, (double) n.walkReferences() / n.tlbMisses());
    assertTrue((double) s.walkReferences() / s.tlbMisses() < 24.0 / 2);
    assertEquals(0, n.untrackedTranslations());
    assertEquals(0, s.untrackedTranslations());
    assertEquals(0, machine.vm(nested.id()).mmu().shadowTableBytes());
    assertTrue(machine.vm(shadow.id()).mmu().shadowTableBytes() > 0);
    assertEquals(machine.vm(nested.id()).counters().accesses(), 80 * 2 + 160, "events are not accesses");
  }

  @Test
  void translationCostsAreChargedToTheBatchAndTheVm() {
    newMachine(1024, 1024);
    Vm vm = machine.powerOn("shadow", "linux", 128, TranslationMode.SHADOW);
    Entries e = new Entries().add(AccessOps.AS_SWITCH, 0, 0, 0).firstTouch(0, 3, 3, 5L).read(0, 3, 3);
    BatchResult result = new BatchResult();
    apply(vm, e, result);
    VmSnapshot s = machine.vm(vm.id());
    MmuSnapshot m = s.mmu();
    long p2m = COSTS.hiddenFaultNs() + COSTS.zeroFrameNs();
    assertEquals(p2m + m.counters().translationNs(), result.hypervisorNs());
    assertEquals(result.hypervisorNs(), s.counters().hypervisorNs());
    // switch, fault (exit + guest walk), map; kernel zeroing write misses (shadow walk + guest walk, its P2M
    // fault's exit charged by the machine); the process's write misses (shadow walk); its read hits.
    long expected = 500 + (500 + 4 * 10) + 500 + 8 * 10 + 4 * 10 + 1;
    assertEquals(expected, m.counters().translationNs());
  }

  @Test
  void hostPagingKeepsShadowTablesConsistentAndCausesHiddenShadowFaults() {
    newMachine(24, 256);
    Vm vm = machine.powerOn("shadow", "linux", 96, TranslationMode.SHADOW);
    Entries e = new Entries().add(AccessOps.AS_SWITCH, 0, 0, 0);
    for (int vpn = 0; vpn < 96; vpn++) {
      e.firstTouch(0, vpn, 95 - vpn, token(0, vpn));
    }
    apply(vm, e);
    for (int round = 0; round < 3; round++) {
      Entries r = new Entries();
      for (int vpn = 0; vpn < 96; vpn++) {
        r.read(0, vpn, 95 - vpn);
      }
      long[] values = apply(vm, r); // checkInvariants checks every shadow entry against the P2M
      for (int vpn = 0; vpn < 96; vpn++) {
        assertEquals(token(0, vpn), values[vpn]);
      }
    }
    VmSnapshot s = machine.vm(vm.id());
    assertTrue(s.counters().hostPageOuts() > 0, "the machine had to page");
    assertTrue(s.mmu().counters().p2mInvalidations() >= s.counters().hostPageOuts());
    assertTrue(s.mmu().counters().hiddenShadowFaults() > 0);
  }

  @Test
  void balloonLockUnlockAndResetDropShadowAndTlbEntries() {
    newMachine(256, 256);
    Vm vm = machine.powerOn("shadow", "linux", 64, TranslationMode.SHADOW);
    Entries e = new Entries().add(AccessOps.AS_SWITCH, 0, 0, 0);
    for (int vpn = 0; vpn < 16; vpn++) {
      e.firstTouch(0, vpn, vpn, token(0, vpn));
    }
    e.add(AccessOps.PT_UNMAP, 0, 3, 0).add(AccessOps.PT_UNMAP, 0, 4, 0);
    apply(vm, e);
    assertTrue(vm.mmu.shadowEntry(0, 5) >= 0);
    long session = startSession(vm);
    machine.setBalloonTarget(vm, 3);
    BalloonPageStatus[] statuses = new BalloonPageStatus[3];
    machine.balloonMove(vm, session, 0, true, new int[] {3, 4, 5}, 3, statuses);
    assertEquals(BalloonPageStatus.OK, statuses[2]);
    assertEquals(-1, vm.mmu.shadowEntry(0, 5), "a locked page's shadow entry went with its frame");
    assertEquals(-1, vm.mmu.shadowEntry(K, 5), "and the kernel's");
    assertEquals(-1, vm.mmu.tlb().lookup(Tlb.vmTag(vm.id()), 0, 5));
    machine.checkInvariants();
    machine.balloonMove(vm, session, 0, false, new int[] {3}, 1, statuses);
    machine.checkInvariants();
    // The guest touches a ballooned page: the balloon is reset, the page gets a fresh frame.
    long[] values = apply(vm, new Entries().read(0, 5, 5));
    assertEquals(0L, values[0]);
    assertEquals(1, machine.vm(vm.id()).counters().balloonFaults());
    assertTrue(vm.mmu.shadowEntry(0, 5) >= 0);
  }

  private void assertRefused(Vm vm, Entries e, String fragment) {
    MachineException x = assertThrows(MachineException.class,
        () -> machine.validateBatch(vm, e.count, e.ops, e.pfns, e.asids, e.vpns, e.writeCount));
    assertEquals(MachineException.Reason.INVALID_ARGUMENT, x.reason());
    assertTrue(x.getMessage().contains(fragment), "'" + x.getMessage() + "' should mention '" + fragment + "'");
  }

  @Test
  void refusesEntriesNoGuestCouldSend() {
    newMachine(64, 64);
    Vm vm = machine.powerOn("vm", "linux", 32, TranslationMode.SHADOW);
    assertRefused(vm, new Entries().read(4096, 0, 1), "address space 4096");
    assertRefused(vm, new Entries().add(AccessOps.AS_SWITCH, K, 0, 0), "address space " + K);
    assertRefused(vm, new Entries().read(K, 2, 1), "VPN = PFN");
    assertRefused(vm, new Entries().read(0, -1, 1), "VPN -1");
    assertRefused(vm, new Entries().add(AccessOps.AS_SWITCH, 1, 5, 0), "VPN 0");
    assertRefused(vm, new Entries().add(AccessOps.AS_RELEASE, 1, 0, 3), "PFN 0");
    assertRefused(vm, new Entries().add(AccessOps.PT_UNMAP, 1, 2, 3), "PFN 0");
    assertRefused(vm, new Entries().add(AccessOps.PT_MAP, 1, 2, 32), "PFN 32");
    assertRefused(vm, new Entries().add((byte) 10, 1, 0, 0), "unknown operation");
    Entries event = new Entries().add(AccessOps.PT_MAP, 0, 1, 1);
    MachineException x = assertThrows(MachineException.class,
        () -> machine.validateBatch(vm, 1, event.ops, event.pfns, null, null, 0));
    assertTrue(x.getMessage().contains("needs an address space"), x.getMessage());
    assertThrows(MachineException.class,
        () -> machine.validateBatch(vm, 1, event.ops, event.pfns, event.asids, null, 0));
    assertEquals(0, machine.vm(vm.id()).mmu().counters().pageTableEvents(), "nothing was applied");
  }

  @Test
  void batchesWithoutAddressSpacesAreKernelAccesses() {
    newMachine(64, 64);
    Vm vm = machine.powerOn("vm", "linux", 32);
    assertEquals(TranslationMode.NESTED, vm.translationMode(), "nested unless asked otherwise");
    byte[] ops = {AccessOps.WRITE, AccessOps.READ};
    int[] pfns = {4, 4};
    machine.validateBatch(vm, 2, ops, pfns, 1);
    long[] reads = new long[2];
    machine.applyBatch(vm, 2, ops, pfns, new long[] {77L}, reads, new BatchResult());
    assertEquals(77L, reads[0]);
    MmuCounters c = machine.vm(vm.id()).mmu().counters();
    assertEquals(1, c.tlbMisses());
    assertEquals(1, c.tlbHits());
    assertEquals(0, c.untrackedTranslations());
  }
}
