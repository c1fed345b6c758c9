package org.balloonlab.hypervisor.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.balloonlab.hypervisor.mmu.Mmu;
import org.balloonlab.hypervisor.mmu.Tlb;
import org.balloonlab.hypervisor.mmu.TlbConfig;
import org.balloonlab.hypervisor.mmu.TranslationMode;
import org.balloonlab.hypervisor.policy.ReclamationSettings;
import org.balloonlab.hypervisor.time.CostModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The quotas (issue 12, item 3): the VM count, the total configured memory, the host swap reserved for every VM's
 * {@code memory - min}, and the translation tables each VM may make the hypervisor hold. Each limit at, below and
 * above; each released on power-off; a refusal changes nothing; the invariants hold after every step.
 */
class MachineQuotaTest {
  private static final CostModel COSTS = CostModel.DEFAULT;

  @TempDir
  Path dir;

  private Machine machine;

  private Machine newMachine(int frames, int slots, Quotas quotas) {
    machine = new Machine(new MachineConfig(frames, slots, dir.resolve("host.swap"), 4096, COSTS, 7,
        MachineConfig.DEFAULT_BALLOON_BATCH, MachineConfig.DEFAULT_BALLOON_STALL_NANOS, ReclamationSettings.ESX,
        quotas), new TlbConfig(32, 4, true));
    machine.checkInvariants();
    return machine;
  }

  @AfterEach
  void close() {
    if (machine != null) {
      machine.close();
    }
  }

  private MachineException exhausted(Runnable call) {
    MachineException e = assertThrows(MachineException.class, call::run);
    assertEquals(MachineException.Reason.RESOURCE_EXHAUSTED, e.reason());
    return e;
  }

  private static void assertMentions(MachineException e, String... parts) {
    for (String part : parts) {
      assertTrue(e.getMessage().contains(part), "'" + e.getMessage() + "' should mention '" + part + "'");
    }
  }

  @Test
  void defaultsAreSixtyFourVmsFourTimesMemoryAndEightMibOfTables() {
    MachineConfig c = new MachineConfig(1000, 4000, dir.resolve("x.swap"), 16, COSTS, 1);
    assertEquals(new Quotas(64, 4000, 2048), c.quotas());
    assertThrows(IllegalArgumentException.class, () -> new Quotas(0, 1, 16));
    assertThrows(IllegalArgumentException.class, () -> new Quotas(Quotas.MAX_VMS_LIMIT + 1, 1, 16));
    assertThrows(IllegalArgumentException.class, () -> new Quotas(1, 0, 16));
    assertThrows(IllegalArgumentException.class, () -> new Quotas(1, 1, 15));
  }

  // ---------------------------------------------------------------- VM count

  @Test
  void theVmLimitAdmitsUpToItRefusesBeyondAndIsReleasedOnPowerOff() {
    newMachine(64, 256, new Quotas(3, 1 << 20, 2048));
    Vm a = machine.powerOn("a", "linux", 4);
    machine.powerOn("b", "linux", 4);
    Vm c = machine.powerOn("c", "linux", 4); // at the limit
    MachineSnapshot before = machine.snapshot();
    MachineException e = exhausted(() -> machine.powerOn("d", "linux", 4));
    assertMentions(e, "--max-vms", "is 3", "3 VMs are on");
    assertEquals(before.vms().size(), machine.snapshot().vms().size(), "a refusal changes nothing");
    assertEquals(before.configuredPages(), machine.snapshot().configuredPages());
    assertEquals(before.hostSwapReservedPages(), machine.snapshot().hostSwapReservedPages());
    machine.powerOff(c.id(), c.credential());
    machine.powerOn("d", "linux", 4);
    machine.connectionLost(a);
    machine.powerOn("e", "linux", 4);
    machine.checkInvariants();
  }

  // ---------------------------------------------------------------- configured memory

  @Test
  void configuredMemoryIsBoundedAtTheLimitAndReleasedOnPowerOff() {
    newMachine(16, 1024, new Quotas(64, 40, 2048));
    Vm a = machine.powerOn("a", "linux", 24);
    exhausted(() -> machine.powerOn("too-big", "linux", 17)); // above: 41 pages
    MachineException e = exhausted(() -> machine.powerOn("too-big", "linux", 17));
    assertMentions(e, "--max-configured-memory", "40 pages", "configured with 24 pages", "16 are left");
    machine.powerOn("b", "linux", 15); // below
    machine.powerOn("c", "linux", 1); // at: 40 pages
    assertEquals(40, machine.snapshot().configuredPages());
    exhausted(() -> machine.powerOn("d", "linux", 1));
    machine.powerOffByOperator(a);
    assertEquals(16, machine.snapshot().configuredPages());
    machine.powerOn("d", "linux", 24);
    machine.checkInvariants();
  }

  // ---------------------------------------------------------------- host swap reservations

  @Test
  void eachVmReservesItsMemoryMinusMinOfHostSwapAndGivesItBackOnPowerOff() {
    newMachine(16, 40, new Quotas(64, 1 << 20, 2048));
    Vm a = machine.powerOn("a", "linux", 24, 8, 0); // reserves 16 slots
    assertEquals(16, machine.vm(a.id()).hostSwapReservedPages());
    machine.powerOn("b", "linux", 24); // reserves 24: 40 of 40, at the limit
    MachineSnapshot s = machine.snapshot();
    assertEquals(40, s.hostSwapReservedPages());
    MachineException e = exhausted(() -> machine.powerOn("c", "linux", 1));
    assertMentions(e, "host swap", "40 of the host swap's 40 slots", "0 are free");
    // A VM whose memory is all reserved in machine memory needs no host swap.
    newMachineAgain();
    Vm full = machine.powerOn("a", "linux", 24, 8, 0);
    machine.powerOn("b", "linux", 24);
    Vm pinned = machine.powerOn("pinned", "linux", 8, 8, 0);
    assertEquals(0, machine.vm(pinned.id()).hostSwapReservedPages());
    machine.powerOffByOperator(full);
    assertEquals(24, machine.snapshot().hostSwapReservedPages());
    machine.powerOn("c", "linux", 16); // below: 40 again
    machine.checkInvariants();
  }

  private void newMachineAgain() {
    machine.close();
    newMachine(16, 40, new Quotas(64, 1 << 20, 2048));
  }

  /**
   * The promise behind reservations: every admitted VM can touch all its memory, together, and host swap never
   * runs out; no VM ever holds more host-swapped pages than it reserved, whatever the order of the touches.
   */
  @Test
  void admittedVmsTouchingAllTheirMemoryNeverExhaustHostSwap() {
    newMachine(16, 40, new Quotas(64, 1 << 20, 2048));
    Vm a = machine.powerOn("a", "linux", 24, 8, 0);
    Vm b = machine.powerOn("b", "linux", 24, 0, 0);
    Vm[] vms = {a, b};
    java.util.SplittableRandom random = new java.util.SplittableRandom(11);
    long[][] written = new long[2][24];
    for (int round = 0; round < 400; round++) {
      int v = random.nextInt(2);
      int pfn = random.nextInt(24);
      long value = ((long) (v + 1) << 40) | ((long) round << 8) | 1;
      byte[] ops = {random.nextBoolean() ? AccessOps.WRITE : AccessOps.READ};
      long[] writes = ops[0] == AccessOps.WRITE ? new long[] {value} : new long[0];
      long[] reads = new long[1];
      machine.validateBatch(vms[v], 1, ops, new int[] {pfn}, writes.length);
      machine.applyBatch(vms[v], 1, ops, new int[] {pfn}, writes, reads, new BatchResult());
      if (ops[0] == AccessOps.WRITE) {
        written[v][pfn] = value;
      } else {
        assertEquals(written[v][pfn], reads[0], "VM " + v + " PFN " + pfn);
      }
      machine.checkInvariants();
      for (VmSnapshot vm : machine.snapshot().vms()) {
        assertTrue(vm.hostSwappedPages() <= vm.hostSwapReservedPages(), vm.toString());
      }
    }
    // Everything touched: 48 pages on 16 frames and 40 slots, without a refusal.
    for (int v = 0; v < 2; v++) {
      byte[] ops = new byte[24];
      Arrays.fill(ops, AccessOps.READ);
      int[] pfns = java.util.stream.IntStream.range(0, 24).toArray();
      long[] reads = new long[24];
      machine.applyBatch(vms[v], 24, ops, pfns, new long[0], reads, new BatchResult());
      assertEquals(Arrays.toString(written[v]), Arrays.toString(reads));
    }
    machine.checkInvariants();
  }

  // ---------------------------------------------------------------- translation tables

  /** PT_MAP events of fresh address spaces: each needs a root and three levels, 4 table pages. */
  private static long[] mapSparse(Machine m, Vm vm, int firstAsid, int spaces) {
    byte[] ops = new byte[spaces];
    char[] asids = new char[spaces];
    int[] vpns = new int[spaces];
    int[] pfns = new int[spaces];
    for (int i = 0; i < spaces; i++) {
      ops[i] = Mmu.PT_MAP;
      asids[i] = (char) (firstAsid + i);
      vpns[i] = (firstAsid + i) << 18;
    }
    m.validateBatch(vm, spaces, ops, pfns, asids, vpns, 0);
    m.applyBatch(vm, spaces, ops, pfns, asids, vpns, new long[0], new long[0], new BatchResult());
    return new long[] {m.vm(vm.id()).mmu().translationTablePages()};
  }

  @ParameterizedTest
  @EnumSource(TranslationMode.class)
  void translationTablesAreChargedUpToTheBudgetAndABatchBeyondChangesNothing(TranslationMode mode) {
    newMachine(64, 256, new Quotas(64, 1 << 20, 64));
    Vm vm = machine.powerOn("vm", "linux", 16, 0, 0, mode);
    assertEquals(64, machine.vm(vm.id()).mmu().translationTableLimitPages());
    // Nested: 4 pages an address space (guest copy). Shadow: the map also builds the shadow when the page is
    // backed; PFN 0 is not backed yet, so also 4.
    mapSparse(machine, vm, 1, 8); // 32 pages: below
    assertEquals(32, machine.vm(vm.id()).mmu().translationTablePages());
    mapSparse(machine, vm, 9, 8); // 64: at the limit
    assertEquals(64, machine.vm(vm.id()).mmu().translationTablePages());
    VmSnapshot before = machine.vm(vm.id());
    MachineException e = exhausted(() -> mapSparse(machine, vm, 17, 1)); // above
    assertMentions(e, "translation tables", "--max-translation-tables", "64 of 64", "not applied");
    VmSnapshot after = machine.vm(vm.id());
    assertEquals(before.mmu(), after.mmu(), "a refused batch changes nothing");
    assertEquals(before.counters(), after.counters());
    machine.checkInvariants();
    // Still usable: kernel accesses and events that allocate nothing go through.
    byte[] ops = {AccessOps.WRITE, Mmu.PT_UNMAP};
    char[] asids = {(char) Tlb.GLOBAL_ASID, 1};
    int[] vpns = {3, 1 << 18};
    int[] pfns = {3, 0};
    machine.validateBatch(vm, 2, ops, pfns, asids, vpns, 1);
    machine.applyBatch(vm, 2, ops, pfns, asids, vpns, new long[] {42}, new long[1], new BatchResult());
    // Releasing an address space gives its pages back.
    byte[] release = {Mmu.AS_RELEASE};
    machine.applyBatch(vm, 1, release, new int[] {0}, new char[] {1}, new int[] {0}, new long[0], new long[0],
        new BatchResult());
    assertEquals(60, machine.vm(vm.id()).mmu().translationTablePages());
    mapSparse(machine, vm, 17, 1);
    machine.checkInvariants();
  }

  @Test
  void manyEntriesUnderOneNewLeafAreChargedOnceSoADenseBatchNearTheLimitFits() {
    newMachine(64, 256, new Quotas(64, 1 << 20, 16));
    Vm vm = machine.powerOn("vm", "linux", 16);
    int n = 512; // one full leaf of one new address space: 4 pages, not 512 x 4
    byte[] ops = new byte[n];
    char[] asids = new char[n];
    int[] vpns = new int[n];
    int[] pfns = new int[n];
    for (int i = 0; i < n; i++) {
      ops[i] = Mmu.PT_MAP;
      asids[i] = 5;
      vpns[i] = i;
      pfns[i] = i % 16;
    }
    machine.validateBatch(vm, n, ops, pfns, asids, vpns, 0);
    machine.applyBatch(vm, n, ops, pfns, asids, vpns, new long[0], new long[0], new BatchResult());
    assertEquals(4, machine.vm(vm.id()).mmu().translationTablePages());
    machine.checkInvariants();
  }

  @Test
  void sparseVpnsAcrossEveryAddressSpaceStopAtTheBudget() {
    newMachine(64, 256, new Quotas(64, 1 << 20, Quotas.DEFAULT_TRANSLATION_TABLE_PAGES));
    Vm vm = machine.powerOn("vm", "linux", 16, 0, 0, TranslationMode.SHADOW);
    int refused = 0;
    for (int asid = 0; asid <= Mmu.MAX_ASID; asid += 64) {
      try {
        mapSparse(machine, vm, asid, 64);
      } catch (MachineException e) {
        assertEquals(MachineException.Reason.RESOURCE_EXHAUSTED, e.reason());
        refused++;
      }
    }
    long charged = machine.vm(vm.id()).mmu().translationTablePages();
    assertTrue(charged <= Quotas.DEFAULT_TRANSLATION_TABLE_PAGES, "charged " + charged);
    assertTrue(refused > 0, "the budget must bite");
    machine.checkInvariants();
    List<VmSnapshot> vms = machine.snapshot().vms();
    assertEquals(1, vms.size());
  }
}
