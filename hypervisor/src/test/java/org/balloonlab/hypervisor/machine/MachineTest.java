package org.balloonlab.hypervisor.machine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.balloonlab.domain.GuestStatus;
import org.balloonlab.hypervisor.time.CostModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

/** The machine's domain: lifecycle, the data path with demand allocation and hypervisor paging, and refusals. */
class MachineTest {
  /** Distinct constants, so a charged time tells which work was charged. */
  /** Translation costs are 0 here, so charges are the P2M's alone; MachineTranslationTest charges translation. */
  static final CostModel COSTS = new CostModel(1, 10, 1_000, 100, 7, 7, 20_000, 300_000, 0, 0, 0);
  static final long HIDDEN = COSTS.hiddenFaultNs();
  static final long ZERO = COSTS.zeroFrameNs();
  static final long HOST_READ = COSTS.hostSwapReadNs();
  static final long HOST_WRITE = COSTS.hostSwapWriteNs();

  @TempDir
  Path dir;

  private Machine machine;

  private Machine newMachine(int frames, int slots, int maxBatch) {
    // Configured memory as far beyond machine memory as the tests overcommit; host swap is reserved as always.
    machine = new Machine(new MachineConfig(frames, slots, dir.resolve("host.swap"), maxBatch, COSTS, 42,
        MachineConfig.DEFAULT_BALLOON_BATCH, MachineConfig.DEFAULT_BALLOON_STALL_NANOS,
        org.balloonlab.hypervisor.policy.ReclamationSettings.ESX, new Quotas(64, 1L << 30, 2048)));
    assertConsistent();
    return machine;
  }

  @AfterEach
  void closeMachine() {
    if (machine != null) {
      machine.close();
    }
  }

  // ---------------------------------------------------------------- helpers

  /** A token no other (vm, pfn, version) produces, never zero. */
  static long token(int vmId, int pfn, int version) {
    return 0x8000_0000_0000_0000L | ((long) vmId << 40) | ((long) version << 24) | pfn;
  }

  /** A batch under construction, in the shape the data path takes. */
  static final class Batch {
    private final List<Byte> ops = new ArrayList<>();
    private final List<Integer> pfns = new ArrayList<>();
    private final List<Long> writes = new ArrayList<>();

    Batch op(byte op, int pfn) {
      ops.add(op);
      pfns.add(pfn);
      return this;
    }

    Batch read(int pfn) {
      return op(AccessOps.READ, pfn);
    }

    Batch swapOutRead(int pfn) {
      return op(AccessOps.SWAP_OUT_READ, pfn);
    }

    Batch write(int pfn, long value) {
      writes.add(value);
      return op(AccessOps.WRITE, pfn);
    }

    /** Adds a write value without a write access, to make the counts disagree. */
    Batch extraWriteValue(long value) {
      writes.add(value);
      return this;
    }

    int count() {
      return ops.size();
    }

    byte[] ops() {
      byte[] a = new byte[ops.size()];
      for (int i = 0; i < a.length; i++) {
        a[i] = ops.get(i);
      }
      return a;
    }

    int[] pfns() {
      return pfns.stream().mapToInt(Integer::intValue).toArray();
    }

    long[] writes() {
      return writes.stream().mapToLong(Long::longValue).toArray();
    }

    int writeCount() {
      return writes.size();
    }
  }

  static Batch batch() {
    return new Batch();
  }

  record Applied(long[] reads, int hiddenFaults, long hypervisorNs) {}

  /** Validates and applies a batch as the transport does, then checks the frame accounting. */
  private Applied apply(Vm vm, Batch b) {
    machine.validateBatch(vm, b.count(), b.ops(), b.pfns(), b.writeCount());
    long[] reads = new long[b.count()];
    BatchResult result = new BatchResult();
    machine.applyBatch(vm, b.count(), b.ops(), b.pfns(), b.writes(), reads, result);
    assertConsistent();
    return new Applied(Arrays.copyOf(reads, result.reads()), result.hiddenFaults(), result.hypervisorNs());
  }

  private void assertConsistent() {
    machine.checkInvariants();
    MachineSnapshot s = machine.snapshot();
    assertEquals(s.machineFrames(), s.freeFrames() + s.mappedFrames(), "free + mapped == machine frames");
    assertEquals(s.vms().stream().mapToLong(VmSnapshot::mappedPages).sum(), s.mappedFrames());
    assertEquals(s.vms().stream().mapToLong(VmSnapshot::hostSwappedPages).sum(), s.hostSwapUsed(),
        "every used host swap slot belongs to a swapped page of a powered-on VM");
    assertEquals(s.vms().stream().mapToLong(VmSnapshot::memoryPages).sum(), s.configuredPages());
    assertTrue(s.hostSwapUsed() <= s.hostSwapSlots());
    for (VmSnapshot v : s.vms()) {
      assertTrue(v.mappedPages() + v.hostSwappedPages() <= v.memoryPages(), v.toString());
    }
  }

  /** What a snapshot says of memory and the VMs' counters, in a form that compares by value. */
  static List<Object> fingerprint(MachineSnapshot s) {
    List<Object> f = new ArrayList<>(List.of(s.machineFrames(), s.freeFrames(), s.mappedFrames(), s.hostSwapSlots(),
        s.hostSwapUsed(), s.configuredPages(), s.hostPageOuts(), s.hostPageIns(), s.doublePaging(),
        s.vmsReleased()));
    for (VmSnapshot v : s.vms()) {
      VmCounters c = v.counters();
      f.add(List.of(v.id(), v.name(), v.osKind(), v.memoryPages(), v.attached(), v.mappedPages(),
          v.hostSwappedPages(), String.valueOf(v.guest()),
          List.of(c.accesses(), c.reads(), c.writes(), c.hiddenFaults(), c.demandZeroFaults(),
              c.hostSwapInFaults(), c.hostPageOuts(), c.hostPageIns(), c.doublePaging(), c.framesZeroed(),
              c.hypervisorNs())));
    }
    return f;
  }

  private VmCounters counters(Vm vm) {
    return machine.vm(vm.id()).counters();
  }

  private void writeAll(Vm vm, int fromPfn, int toPfn, int version) {
    Batch b = batch();
    for (int pfn = fromPfn; pfn < toPfn; pfn++) {
      b.write(pfn, token(vm.id(), pfn, version));
    }
    apply(vm, b);
  }

  private long[] readAll(Vm vm, int fromPfn, int toPfn) {
    Batch b = batch();
    for (int pfn = fromPfn; pfn < toPfn; pfn++) {
      b.read(pfn);
    }
    return apply(vm, b).reads();
  }

  private static MachineException refused(MachineException.Reason reason, Runnable call) {
    MachineException e = assertThrows(MachineException.class, call::run);
    assertEquals(reason, e.reason(), e.getMessage());
    return e;
  }

  private static void assertMentions(Throwable e, String... fragments) {
    for (String fragment : fragments) {
      assertTrue(e.getMessage().contains(fragment), "'" + e.getMessage() + "' should mention '" + fragment + "'");
    }
  }

  // ---------------------------------------------------------------- P2M encoding

  @Nested
  class P2mEncoding {
    @Test
    void everyEntryStartsUntouched() {
      P2m p2m = new P2m(5);
      assertEquals(5, p2m.pages());
      for (int pfn = 0; pfn < 5; pfn++) {
        assertEquals(P2m.UNTOUCHED, p2m.get(pfn));
        assertFalse(P2m.isMapped(p2m.get(pfn)));
        assertFalse(P2m.isSwapped(p2m.get(pfn)));
      }
    }

    @Test
    void mapsToMachineFramesIncludingFrameZero() {
      P2m p2m = new P2m(3);
      p2m.map(0, 0);
      p2m.map(2, Integer.MAX_VALUE);
      assertEquals(0, p2m.get(0));
      assertTrue(P2m.isMapped(p2m.get(0)));
      assertFalse(P2m.isSwapped(p2m.get(0)));
      assertEquals(Integer.MAX_VALUE, p2m.get(2));
      assertEquals(P2m.UNTOUCHED, p2m.get(1));
    }

    @Test
    void encodesSwapSlotsBelowUntouched() {
      P2m p2m = new P2m(3);
      int[] slots = {0, 1, 12345, Integer.MAX_VALUE - 8};
      for (int slot : slots) {
        p2m.setSwapped(1, slot);
        int e = p2m.get(1);
        assertTrue(P2m.isSwapped(e), "slot " + slot);
        assertFalse(P2m.isMapped(e), "slot " + slot);
        assertTrue(e < P2m.UNTOUCHED, "slot " + slot);
        assertEquals(slot, P2m.swapSlot(e));
      }
    }

    @Test
    void clearForgetsTheEntry() {
      P2m p2m = new P2m(2);
      p2m.map(0, 7);
      p2m.setSwapped(1, 3);
      p2m.clear(0);
      p2m.clear(1);
      assertEquals(P2m.UNTOUCHED, p2m.get(0));
      assertEquals(P2m.UNTOUCHED, p2m.get(1));
    }
  }

  // ---------------------------------------------------------------- configuration and lifecycle

  @Test
  void configRefusesEmptyMachinesSwapsAndBatches() {
    Path file = dir.resolve("x.swap");
    assertThrows(IllegalArgumentException.class, () -> new MachineConfig(0, 1, file, 1, COSTS, 1));
    assertThrows(IllegalArgumentException.class, () -> new MachineConfig(1, 0, file, 1, COSTS, 1));
    IllegalArgumentException batch =
        assertThrows(IllegalArgumentException.class, () -> new MachineConfig(1, 1, file, 0, COSTS, 1));
    assertMentions(batch, "batch");
  }

  @Test
  void powersOnWithAnEmptyP2m() {
    newMachine(8, 24, 32);
    Vm vm = machine.powerOn("web-1", "linux", 24);
    assertTrue(vm.id() >= 1);
    assertEquals("web-1", vm.name());
    assertEquals("linux", machine.vm(vm.id()).osKind());
    assertEquals(24, vm.memoryPages());
    assertTrue(vm.credential().length() >= 16, "credential " + vm.credential());
    assertConsistent();
    MachineSnapshot s = machine.snapshot();
    assertEquals(8, s.freeFrames(), "frames are allocated on first touch, not at power-on");
    assertEquals(24, s.configuredPages());
    VmSnapshot v = machine.vm(vm.id());
    assertEquals(v.id(), machine.vm("web-1").id());
    assertEquals(0, v.mappedPages());
    assertFalse(v.attached());
    assertNull(v.guest());
    assertSame(vm, machine.authenticate(vm.id(), vm.credential()));
  }

  @Test
  void idsAndCredentialsAreUnique() {
    newMachine(8, 16, 32);
    Vm a = machine.powerOn("a", null, 4);
    Vm b = machine.powerOn("b", "", 4);
    assertNotEquals(a.id(), b.id());
    assertNotEquals(a.credential(), b.credential());
    assertEquals("generic", machine.vm(a.id()).osKind());
    assertEquals("generic", machine.vm(b.id()).osKind());
    assertEquals(List.of(a.id(), b.id()), machine.snapshot().vms().stream().map(VmSnapshot::id).toList());
  }

  @Test
  void duplicateNameIsAlreadyExistsUntilTheFirstIsOff() {
    newMachine(8, 16, 32);
    Vm first = machine.powerOn("twin", "linux", 4);
    List<Object> before = fingerprint(machine.snapshot());
    MachineException e = refused(MachineException.Reason.ALREADY_EXISTS, () -> machine.powerOn("twin", "bsd", 8));
    assertMentions(e, "twin");
    assertEquals(before, fingerprint(machine.snapshot()));
    machine.powerOff(first.id(), first.credential());
    Vm second = machine.powerOn("twin", "bsd", 8);
    assertNotEquals(first.id(), second.id());
    assertConsistent();
  }

  @ParameterizedTest
  @NullAndEmptySource
  @ValueSource(strings = {"has space", "a/b", "tab\t", "ünïcode", "semi;colon",
      "12345678901234567890123456789012345678901234567890123456789012345"})
  void badNamesAreInvalidArguments(String name) {
    newMachine(8, 16, 32);
    List<Object> before = fingerprint(machine.snapshot());
    MachineException e = refused(MachineException.Reason.INVALID_ARGUMENT, () -> machine.powerOn(name, "linux", 4));
    assertMentions(e, "name");
    assertEquals(before, fingerprint(machine.snapshot()));
  }

  @Test
  void longestNameAndAllowedCharactersAreAccepted() {
    newMachine(8, 16, 32);
    String name = "A-z_0.9" + "x".repeat(57);
    assertEquals(64, name.length());
    assertEquals(name, machine.powerOn(name, "os.kind_1-2", 1).name());
  }

  @Test
  void badOsKindIsInvalidArgument() {
    newMachine(8, 16, 32);
    MachineException e = refused(MachineException.Reason.INVALID_ARGUMENT, () -> machine.powerOn("vm", "bad kind", 4));
    assertMentions(e, "OS kind");
    assertTrue(machine.snapshot().vms().isEmpty());
  }

  @ParameterizedTest
  @ValueSource(longs = {0, -1, Long.MIN_VALUE, Machine.MAX_VM_PAGES + 1, Long.MAX_VALUE})
  void badSizesAreInvalidArguments(long pages) {
    newMachine(8, 16, 32);
    MachineException e = refused(MachineException.Reason.INVALID_ARGUMENT, () -> machine.powerOn("vm", "linux", pages));
    assertMentions(e, "memory", String.valueOf(pages));
    assertTrue(machine.snapshot().vms().isEmpty());
    assertConsistent();
  }

  @Test
  void authenticationRefusesUnknownVmsAndWrongCredentials() {
    newMachine(8, 16, 32);
    Vm vm = machine.powerOn("vm", "linux", 4);
    assertMentions(refused(MachineException.Reason.NOT_FOUND, () -> machine.authenticate(999, vm.credential())),
        "999");
    refused(MachineException.Reason.PERMISSION_DENIED, () -> machine.authenticate(vm.id(), "not-the-secret"));
    refused(MachineException.Reason.PERMISSION_DENIED, () -> machine.authenticate(vm.id(), ""));
    refused(MachineException.Reason.PERMISSION_DENIED, () -> machine.authenticate(vm.id(), null));
    refused(MachineException.Reason.PERMISSION_DENIED,
        () -> machine.authenticate(vm.id(), vm.credential().toUpperCase() + "0"));
    assertSame(vm, machine.authenticate(vm.id(), vm.credential()));
  }

  @Test
  void powerOffRefusesWrongCredentialsAndUnknownVmsAndChangesNothing() {
    newMachine(8, 16, 32);
    Vm vm = machine.powerOn("vm", "linux", 8);
    writeAll(vm, 0, 4, 1);
    List<Object> before = fingerprint(machine.snapshot());
    refused(MachineException.Reason.PERMISSION_DENIED, () -> machine.powerOff(vm.id(), "wrong"));
    refused(MachineException.Reason.NOT_FOUND, () -> machine.powerOff(vm.id() + 1, vm.credential()));
    assertEquals(before, fingerprint(machine.snapshot()));
    long[] reads = readAll(vm, 0, 4);
    for (int pfn = 0; pfn < 4; pfn++) {
      assertEquals(token(vm.id(), pfn, 1), reads[pfn]);
    }
  }

  @Test
  void lookupsOfUnknownVmsAreNotFound() {
    newMachine(8, 16, 32);
    assertMentions(refused(MachineException.Reason.NOT_FOUND, () -> machine.vm(7)), "7");
    assertMentions(refused(MachineException.Reason.NOT_FOUND, () -> machine.vm("ghost")), "ghost");
  }

  @Test
  void attachIsExclusiveAndDetachAllowsAnotherAttach() {
    newMachine(8, 16, 32);
    Vm vm = machine.powerOn("vm", "linux", 8);
    machine.attach(vm);
    assertTrue(machine.vm(vm.id()).attached());
    MachineException e = refused(MachineException.Reason.FAILED_PRECONDITION, () -> machine.attach(vm));
    assertMentions(e, "attached");
    assertTrue(e.poweredOff().isEmpty(), "a VM with a stream is not one that is off");
    machine.detach(vm);
    assertFalse(machine.vm(vm.id()).attached());
    machine.attach(vm);
    assertTrue(machine.vm(vm.id()).attached());
  }

  @Test
  void aPoweredOffVmCannotAttachOrAccess() {
    newMachine(8, 16, 32);
    Vm vm = machine.powerOn("vm", "linux", 8);
    machine.powerOff(vm.id(), vm.credential());
    refused(MachineException.Reason.FAILED_PRECONDITION, () -> machine.attach(vm));
    Batch b = batch().write(0, 5L);
    refused(MachineException.Reason.FAILED_PRECONDITION,
        () -> machine.applyBatch(vm, b.count(), b.ops(), b.pfns(), b.writes(), new long[1], new BatchResult()));
    assertEquals(8, machine.snapshot().freeFrames());
    // Harmless after the fact.
    machine.detach(vm);
    machine.connectionLost(vm);
    assertEquals(1, machine.snapshot().vmsReleased());
    assertConsistent();
  }

  // ---------------------------------------------------------------- data path

  @Test
  void firstTouchIsADemandZeroFaultChargedHiddenFaultPlusZeroing() {
    newMachine(8, 16, 32);
    Vm vm = machine.powerOn("vm", "linux", 16);
    Applied first = apply(vm, batch().read(3));
    assertArrayEquals(new long[] {0L}, first.reads());
    assertEquals(1, first.hiddenFaults());
    assertEquals(HIDDEN + ZERO, first.hypervisorNs());

    VmCounters c = counters(vm);
    assertEquals(1, c.accesses());
    assertEquals(1, c.reads());
    assertEquals(0, c.writes());
    assertEquals(1, c.hiddenFaults());
    assertEquals(1, c.demandZeroFaults());
    assertEquals(1, c.framesZeroed());
    assertEquals(0, c.hostSwapInFaults());
    assertEquals(HIDDEN + ZERO, c.hypervisorNs());
    assertEquals(1, machine.vm(vm.id()).mappedPages());
    assertEquals(7, machine.snapshot().freeFrames());

    // Touching it again is no fault and costs the hypervisor nothing.
    Applied again = apply(vm, batch().read(3).read(3));
    assertArrayEquals(new long[] {0L, 0L}, again.reads());
    assertEquals(0, again.hiddenFaults());
    assertEquals(0, again.hypervisorNs());
    assertEquals(1, counters(vm).demandZeroFaults());
    assertEquals(3, counters(vm).accesses());
  }

  @Test
  void aFirstWriteIsADemandZeroFaultToo() {
    newMachine(8, 16, 32);
    Vm vm = machine.powerOn("vm", "linux", 16);
    Applied a = apply(vm, batch().write(0, 11L).write(1, 12L).write(0, 13L));
    assertEquals(0, a.reads().length);
    assertEquals(2, a.hiddenFaults());
    assertEquals(2 * (HIDDEN + ZERO), a.hypervisorNs());
    assertEquals(2, counters(vm).demandZeroFaults());
    assertEquals(3, counters(vm).writes());
  }

  @Test
  void writesThenReadsReturnTheTokensInOrder() {
    newMachine(8, 16, 32);
    Vm vm = machine.powerOn("vm", "linux", 16);
    long t1 = token(vm.id(), 1, 1);
    long t2 = token(vm.id(), 1, 2);
    long t5 = token(vm.id(), 5, 1);
    Applied a = apply(vm, batch().write(1, t1).read(1).write(1, t2).read(1).write(5, t5).read(5).read(6));
    assertArrayEquals(new long[] {t1, t2, t5, 0L}, a.reads());
    assertArrayEquals(new long[] {t2, t5, 0L}, apply(vm, batch().read(1).read(5).read(6)).reads());
    // Any 64-bit value is a token, including the extremes.
    apply(vm, batch().write(2, -1L).write(3, Long.MIN_VALUE).write(4, Long.MAX_VALUE));
    assertArrayEquals(new long[] {-1L, Long.MIN_VALUE, Long.MAX_VALUE},
        apply(vm, batch().read(2).read(3).read(4)).reads());
    VmCounters c = counters(vm);
    assertEquals(6, c.writes());
    assertEquals(10, c.reads());
    assertEquals(16, c.accesses());
  }

  @Test
  void anEmptyBatchIsFine() {
    newMachine(8, 16, 32);
    Vm vm = machine.powerOn("vm", "linux", 16);
    Applied a = apply(vm, batch());
    assertEquals(0, a.reads().length);
    assertEquals(0, a.hiddenFaults());
    assertEquals(0, counters(vm).accesses());
  }

  @Test
  void vmsSeeOnlyTheirOwnPages() {
    newMachine(8, 16, 32);
    Vm a = machine.powerOn("a", "linux", 4);
    Vm b = machine.powerOn("b", "linux", 4);
    writeAll(a, 0, 4, 1);
    assertArrayEquals(new long[4], readAll(b, 0, 4));
    writeAll(b, 0, 2, 1);
    long[] ra = readAll(a, 0, 4);
    long[] rb = readAll(b, 0, 4);
    for (int pfn = 0; pfn < 4; pfn++) {
      assertEquals(token(a.id(), pfn, 1), ra[pfn]);
      assertEquals(pfn < 2 ? token(b.id(), pfn, 1) : 0L, rb[pfn]);
    }
  }

  @Test
  void overcommitPagesOutToHostSwapAndPagesBackInWithTheRightTokens() {
    newMachine(8, 64, 64);
    Vm a = machine.powerOn("a", "linux", 12);
    Vm b = machine.powerOn("b", "linux", 12);
    MachineSnapshot s0 = machine.snapshot();
    assertTrue(s0.configuredPages() > s0.machineFrames(), "the VMs overcommit the machine");

    writeAll(a, 0, 12, 1);
    MachineSnapshot s1 = machine.snapshot();
    assertEquals(4, s1.hostPageOuts(), "12 pages on 8 frames: 4 page-outs");
    assertEquals(0, s1.freeFrames());
    assertEquals(8, s1.mappedFrames());
    assertEquals(4, s1.hostSwapUsed());

    writeAll(b, 0, 12, 1);
    MachineSnapshot s2 = machine.snapshot();
    assertEquals(16, s2.hostPageOuts(), "every touch past the machine's 8 frames pages one page out");
    assertEquals(16, s2.hostSwapUsed());
    assertEquals(8, s2.mappedFrames());
    assertEquals(0, s2.hostPageIns());

    // Everything reads back, one page at a time so each touch can page another one out.
    for (int round = 0; round < 2; round++) {
      for (int pfn = 0; pfn < 12; pfn++) {
        assertArrayEquals(new long[] {token(a.id(), pfn, 1)}, apply(a, batch().read(pfn)).reads(), "a " + pfn);
        assertArrayEquals(new long[] {token(b.id(), pfn, 1)}, apply(b, batch().read(pfn)).reads(), "b " + pfn);
      }
    }
    MachineSnapshot s3 = machine.snapshot();
    assertTrue(s3.hostPageIns() > 0, "some reads had to page in");
    assertEquals(s3.hostPageOuts() - s3.hostSwapUsed(), s3.hostPageIns(), "every slot written is read or in use");
    assertEquals(0, s3.doublePaging(), "plain reads are not double paging");
    VmCounters ca = counters(a);
    VmCounters cb = counters(b);
    assertEquals(s3.hostPageIns(), ca.hostPageIns() + cb.hostPageIns());
    assertEquals(s3.hostPageOuts(), ca.hostPageOuts() + cb.hostPageOuts());
    assertEquals(ca.hostPageIns(), ca.hostSwapInFaults());
    assertEquals(ca.hiddenFaults(), ca.demandZeroFaults() + ca.hostSwapInFaults());
    assertEquals(12, ca.demandZeroFaults());
    assertEquals(12, cb.demandZeroFaults());
  }

  @Test
  void hostPagingChargesTheFaultingVmAndDoublePagingIsCounted() {
    newMachine(1, 4, 8);
    Vm vm = machine.powerOn("vm", "linux", 2);
    long t0 = token(vm.id(), 0, 1);
    long t1 = token(vm.id(), 1, 1);

    assertEquals(HIDDEN + ZERO, apply(vm, batch().write(0, t0)).hypervisorNs());
    // No frame is free: PFN 0 is paged out to make room for PFN 1.
    Applied second = apply(vm, batch().write(1, t1));
    assertEquals(1, second.hiddenFaults());
    assertEquals(HIDDEN + ZERO + HOST_WRITE, second.hypervisorNs());
    assertEquals(1, machine.vm(vm.id()).hostSwappedPages());
    assertEquals(1, counters(vm).hostPageOuts());

    // The guest picks PFN 0 as its own victim and reads it to write it to its swap: the hypervisor must page it
    // back in (paging PFN 1 out to do so) only for the guest to page it out again.
    Applied swapOut = apply(vm, batch().swapOutRead(0));
    assertArrayEquals(new long[] {t0}, swapOut.reads());
    assertEquals(1, swapOut.hiddenFaults());
    assertEquals(HIDDEN + HOST_READ + HOST_WRITE, swapOut.hypervisorNs());
    VmCounters c = counters(vm);
    assertEquals(1, c.doublePaging());
    assertEquals(1, c.hostPageIns());
    assertEquals(1, c.hostSwapInFaults());
    assertEquals(2, c.hostPageOuts());
    assertEquals(1, machine.snapshot().doublePaging());

    // A plain read that pages in is a hidden fault but not double paging.
    Applied read = apply(vm, batch().read(1));
    assertArrayEquals(new long[] {t1}, read.reads());
    assertEquals(HIDDEN + HOST_READ + HOST_WRITE, read.hypervisorNs());
    c = counters(vm);
    assertEquals(1, c.doublePaging());
    assertEquals(2, c.hostPageIns());
    assertEquals(2 * (HIDDEN + ZERO) + 2 * (HIDDEN + HOST_READ) + 3 * HOST_WRITE, c.hypervisorNs());
    assertEquals(4, c.hiddenFaults());
    assertEquals(1, machine.snapshot().doublePaging());
    assertEquals(2, machine.snapshot().hostPageIns());
  }

  @Test
  void aSwapOutReadOfAMappedOrUntouchedPageIsNotDoublePaging() {
    newMachine(4, 4, 8);
    Vm vm = machine.powerOn("vm", "linux", 4);
    apply(vm, batch().write(0, 77L));
    Applied a = apply(vm, batch().swapOutRead(0).swapOutRead(1));
    assertArrayEquals(new long[] {77L, 0L}, a.reads());
    assertEquals(1, a.hiddenFaults(), "only the untouched page faults (demand zero)");
    VmCounters c = counters(vm);
    assertEquals(0, c.doublePaging());
    assertEquals(2, c.demandZeroFaults());
    assertEquals(2, c.reads());
  }

  @Test
  void dataSurvivesRandomAccessesUnderHeavyOvercommit() {
    newMachine(16, 256, 64);
    Vm[] vms = {machine.powerOn("a", "linux", 40), machine.powerOn("b", "linux", 40), machine.powerOn("c", "bsd", 8)};
    long[][] expected = new long[vms.length][];
    int[][] versions = new int[vms.length][];
    for (int v = 0; v < vms.length; v++) {
      expected[v] = new long[vms[v].memoryPages()];
      versions[v] = new int[vms[v].memoryPages()];
    }
    Random random = new Random(20240501);
    for (int round = 0; round < 300; round++) {
      int v = random.nextInt(vms.length);
      Vm vm = vms[v];
      Batch b = batch();
      List<Long> expectReads = new ArrayList<>();
      for (int i = 0, n = 1 + random.nextInt(32); i < n; i++) {
        int pfn = random.nextInt(vm.memoryPages());
        switch (random.nextInt(3)) {
          case 0 -> {
            long t = token(vm.id(), pfn, ++versions[v][pfn]);
            expected[v][pfn] = t;
            b.write(pfn, t);
          }
          case 1 -> {
            b.read(pfn);
            expectReads.add(expected[v][pfn]);
          }
          default -> {
            b.swapOutRead(pfn);
            expectReads.add(expected[v][pfn]);
          }
        }
      }
      long[] reads = apply(vm, b).reads();
      assertArrayEquals(expectReads.stream().mapToLong(Long::longValue).toArray(), reads, "round " + round);
    }
    MachineSnapshot s = machine.snapshot();
    assertTrue(s.hostPageOuts() > 0);
    assertTrue(s.hostPageIns() > 0);
    assertTrue(s.doublePaging() > 0, "random victims and random guest swap-outs meet");
    assertEquals(s.hostPageOuts() - s.hostSwapUsed(), s.hostPageIns());
    // Every page, read at the end, holds its latest token.
    for (int v = 0; v < vms.length; v++) {
      assertArrayEquals(expected[v], readAll(vms[v], 0, vms[v].memoryPages()), "VM " + vms[v]);
    }
  }

  @Test
  void concurrentVmsKeepTheirDataAndTheAccountingHolds() throws Exception {
    newMachine(16, 512, 64);
    int vmCount = 4;
    Vm[] vms = new Vm[vmCount];
    for (int i = 0; i < vmCount; i++) {
      vms[i] = machine.powerOn("vm" + i, "linux", 24);
    }
    ExecutorService pool = Executors.newFixedThreadPool(vmCount);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int i = 0; i < vmCount; i++) {
        Vm vm = vms[i];
        long seed = i;
        futures.add(pool.submit(() -> {
          Random random = new Random(seed);
          long[] expected = new long[vm.memoryPages()];
          long[] reads = new long[64];
          BatchResult result = new BatchResult();
          for (int round = 0; round < 200; round++) {
            Batch b = batch();
            List<Long> expectReads = new ArrayList<>();
            for (int k = 0; k < 16; k++) {
              int pfn = random.nextInt(vm.memoryPages());
              if (random.nextBoolean()) {
                long t = token(vm.id(), pfn, round * 16 + k);
                expected[pfn] = t;
                b.write(pfn, t);
              } else {
                b.read(pfn);
                expectReads.add(expected[pfn]);
              }
            }
            machine.validateBatch(vm, b.count(), b.ops(), b.pfns(), b.writeCount());
            machine.applyBatch(vm, b.count(), b.ops(), b.pfns(), b.writes(), reads, result);
            assertArrayEquals(expectReads.stream().mapToLong(Long::longValue).toArray(),
                Arrays.copyOf(reads, result.reads()), vm + " round " + round);
          }
          return null;
        }));
      }
      for (Future<?> f : futures) {
        f.get(20, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertConsistent();
    assertTrue(machine.snapshot().hostPageOuts() > 0);
  }

  // ---------------------------------------------------------------- release

  @Test
  void powerOffFreesEveryFrameAndSwapSlot() {
    newMachine(8, 64, 64);
    Vm a = machine.powerOn("a", "linux", 12);
    Vm b = machine.powerOn("b", "linux", 12);
    writeAll(a, 0, 12, 1);
    writeAll(b, 0, 12, 1);
    MachineSnapshot before = machine.snapshot();
    VmSnapshot aBefore = machine.vm(a.id());
    VmSnapshot bBefore = machine.vm(b.id());
    assertTrue(aBefore.hostSwappedPages() > 0 || bBefore.hostSwappedPages() > 0);

    VmSnapshot last = machine.powerOff(a.id(), a.credential());
    assertEquals(aBefore.mappedPages(), last.mappedPages(), "the final state is the state before release");
    assertEquals(aBefore.hostSwappedPages(), last.hostSwappedPages());
    assertEquals(12, last.counters().writes());
    assertConsistent();
    MachineSnapshot afterA = machine.snapshot();
    assertEquals(before.freeFrames() + aBefore.mappedPages(), afterA.freeFrames());
    assertEquals(bBefore.hostSwappedPages(), afterA.hostSwapUsed());
    assertEquals(12, afterA.configuredPages());
    assertEquals(1, afterA.vmsReleased());
    refused(MachineException.Reason.NOT_FOUND, () -> machine.authenticate(a.id(), a.credential()));
    refused(MachineException.Reason.NOT_FOUND, () -> machine.powerOff(a.id(), a.credential()));

    // The survivor's data is intact.
    for (int pfn = 0; pfn < 12; pfn++) {
      assertArrayEquals(new long[] {token(b.id(), pfn, 1)}, apply(b, batch().read(pfn)).reads());
    }
    machine.powerOff(b.id(), b.credential());
    assertConsistent();
    MachineSnapshot end = machine.snapshot();
    assertEquals(8, end.freeFrames());
    assertEquals(0, end.mappedFrames());
    assertEquals(0, end.hostSwapUsed());
    assertEquals(0, end.configuredPages());
    assertEquals(2, end.vmsReleased());
    assertTrue(end.vms().isEmpty());
  }

  @Test
  void connectionLostFreesEveryFrameAndSwapSlot() {
    newMachine(4, 16, 16);
    Vm vm = machine.powerOn("vm", "linux", 10);
    machine.attach(vm);
    writeAll(vm, 0, 10, 1);
    assertEquals(6, machine.snapshot().hostSwapUsed());
    machine.connectionLost(vm);
    assertConsistent();
    MachineSnapshot s = machine.snapshot();
    assertEquals(4, s.freeFrames());
    assertEquals(0, s.hostSwapUsed());
    assertEquals(1, s.vmsReleased());
    assertTrue(s.vms().isEmpty());
    refused(MachineException.Reason.NOT_FOUND, () -> machine.vm("vm"));
    machine.connectionLost(vm);
    assertEquals(1, machine.snapshot().vmsReleased(), "a second loss releases nothing more");
  }

  @Test
  void reapDetachedReleasesOnlyStaleDetachedVms() {
    newMachine(8, 16, 16);
    long hour = TimeUnit.HOURS.toNanos(1);
    Vm stale = machine.powerOn("stale", "linux", 4);
    Vm attached = machine.powerOn("attached", "linux", 4);
    machine.attach(attached);
    writeAll(stale, 0, 4, 1);
    writeAll(attached, 0, 2, 1);
    long mark = System.nanoTime();
    while (System.nanoTime() == mark) {
      Thread.onSpinWait();
    }
    Vm fresh = machine.powerOn("fresh", "linux", 4);
    writeAll(fresh, 0, 2, 1);

    assertEquals(0, machine.reapDetached(System.nanoTime(), hour), "nothing is an hour old");
    assertEquals(3, machine.snapshot().vms().size());

    // An hour and a nanosecond after the mark: "stale" (on before it) is overdue, "fresh" (on after it) is not.
    assertEquals(1, machine.reapDetached(mark + hour + 1, hour));
    assertConsistent();
    List<String> left = machine.snapshot().vms().stream().map(VmSnapshot::name).toList();
    assertEquals(List.of("attached", "fresh"), left);
    assertEquals(4, machine.snapshot().freeFrames());

    // Much later: every detached VM goes, the attached one never does.
    assertEquals(1, machine.reapDetached(mark + 100 * hour, hour));
    assertEquals(List.of("attached"), machine.snapshot().vms().stream().map(VmSnapshot::name).toList());
    assertEquals(0, machine.reapDetached(Long.MAX_VALUE / 2, 0));
    assertArrayEquals(new long[] {token(attached.id(), 0, 1), token(attached.id(), 1, 1)},
        readAll(attached, 0, 2));

    // Once it detaches, its clock starts from the detach.
    machine.detach(attached);
    long detachedAt = System.nanoTime();
    assertEquals(0, machine.reapDetached(detachedAt, hour));
    assertEquals(1, machine.reapDetached(detachedAt + hour + 1, hour));
    MachineSnapshot s = machine.snapshot();
    assertTrue(s.vms().isEmpty());
    assertEquals(8, s.freeFrames());
    assertEquals(0, s.hostSwapUsed());
    assertEquals(3, s.vmsReleased());
  }

  @Test
  void framesFreedByOneVmReadAsZeroInAnother() {
    newMachine(4, 16, 16);
    Vm a = machine.powerOn("a", "linux", 4);
    writeAll(a, 0, 4, 1);
    assertEquals(0, machine.snapshot().freeFrames());
    machine.powerOff(a.id(), a.credential());

    Vm b = machine.powerOn("b", "linux", 4);
    assertArrayEquals(new long[4], readAll(b, 0, 4), "reused frames are zeroed, never a's tokens");
    assertEquals(4, counters(b).demandZeroFaults());
    assertEquals(4, counters(b).framesZeroed());
  }

  @Test
  void pagesOutAndReleasedSlotsNeverLeakBetweenVms() {
    newMachine(2, 16, 16);
    Vm a = machine.powerOn("a", "linux", 6);
    writeAll(a, 0, 6, 1);
    assertEquals(4, machine.snapshot().hostSwapUsed());

    // b takes frames from a by paging a out; b sees only zeroes.
    Vm b = machine.powerOn("b", "linux", 6);
    assertArrayEquals(new long[6], readAll(b, 0, 6));
    for (int pfn = 0; pfn < 6; pfn++) {
      assertArrayEquals(new long[] {token(a.id(), pfn, 1)}, apply(a, batch().read(pfn)).reads());
    }

    // a goes away abruptly; c reuses its frames and swap slots and still sees only zeroes, then its own data.
    machine.connectionLost(a);
    assertConsistent();
    Vm c = machine.powerOn("c", "linux", 6);
    assertArrayEquals(new long[6], readAll(c, 0, 6));
    writeAll(c, 0, 6, 1);
    for (int pfn = 0; pfn < 6; pfn++) {
      assertArrayEquals(new long[] {token(c.id(), pfn, 1)}, apply(c, batch().read(pfn)).reads());
      assertArrayEquals(new long[] {0L}, apply(b, batch().read(pfn)).reads());
    }
  }

  @Test
  void guestViewsAreRecordedWhileOn() {
    newMachine(4, 4, 4);
    Vm vm = machine.powerOn("vm", "linux", 4);
    GuestStatus view = new GuestStatus(1, 2, 3, 4, 5, 6, 7, 0, 0, 10, 11, 12, 13, "stream", false);
    machine.recordGuestView(vm, view);
    assertEquals(view, machine.vm(vm.id()).guest());
    machine.powerOff(vm.id(), vm.credential());
    machine.recordGuestView(vm, view);
    assertTrue(machine.snapshot().vms().isEmpty());
  }

  // ---------------------------------------------------------------- refusals change nothing

  static Stream<Arguments> badBatches() {
    return Stream.of(
        Arguments.of("PFN one past the end", batch().read(0).read(16), new String[] {"PFN 16", "out of range", "0..15"}),
        Arguments.of("negative PFN", batch().write(-1, 5L), new String[] {"PFN -1", "out of range"}),
        Arguments.of("huge PFN", batch().read(Integer.MAX_VALUE), new String[] {"PFN " + Integer.MAX_VALUE}),
        Arguments.of("unspecified op", batch().op((byte) 0, 1), new String[] {"access 0", "unknown operation 0"}),
        Arguments.of("op past the last", batch().read(1).op((byte) 10, 1),
            new String[] {"access 1", "unknown operation 10"}),
        Arguments.of("a page-table event without an address space", batch().read(1).op(AccessOps.PT_MAP, 1),
            new String[] {"entry 1", "needs an address space"}),
        Arguments.of("negative op", batch().op((byte) -1, 1), new String[] {"unknown operation -1"}),
        Arguments.of("a write without its value", batch().write(1, 9L).op(AccessOps.WRITE, 2),
            new String[] {"2 writes", "1 write values"}),
        Arguments.of("a value without a write", batch().read(1).extraWriteValue(9L),
            new String[] {"0 writes", "1 write values"}),
        Arguments.of("over the limit", fullBatch(9), new String[] {"at most 8", "got 9"}));
  }

  static Batch fullBatch(int n) {
    Batch b = batch();
    for (int i = 0; i < n; i++) {
      b.write(i, 1000L + i);
    }
    return b;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badBatches")
  void badBatchesAreRefusedByNameAndChangeNothing(String what, Batch bad, String[] fragments) {
    newMachine(8, 16, 8);
    Vm vm = machine.powerOn("vm", "linux", 16);
    writeAll(vm, 0, 4, 1);
    List<Object> before = fingerprint(machine.snapshot());
    MachineException e = refused(MachineException.Reason.INVALID_ARGUMENT,
        () -> machine.validateBatch(vm, bad.count(), bad.ops(), bad.pfns(), bad.writeCount()));
    assertMentions(e, fragments);
    assertEquals(before, fingerprint(machine.snapshot()));
    assertConsistent();
    long[] reads = readAll(vm, 0, 4);
    for (int pfn = 0; pfn < 4; pfn++) {
      assertEquals(token(vm.id(), pfn, 1), reads[pfn]);
    }
  }

  @Test
  void aBatchAtTheLimitIsAccepted() {
    newMachine(8, 16, 8);
    Vm vm = machine.powerOn("vm", "linux", 16);
    Applied a = apply(vm, fullBatch(8));
    assertEquals(8, a.hiddenFaults());
    assertEquals(8, machine.snapshot().mappedFrames());
  }

  @Test
  void admissionReservesHostSwapSoMemoryAndSwapNeverBothFill() {
    // Before host swap was reserved, two 4-page VMs on 2 frames and 2 slots could fill both and a batch was refused
    // half-way through a guest's life; now the second VM is refused at power-on instead.
    newMachine(2, 2, 8);
    Vm filler = machine.powerOn("filler", "linux", 4, 2, 0);
    MachineException e = refused(MachineException.Reason.RESOURCE_EXHAUSTED,
        () -> machine.powerOn("vm", "linux", 4));
    assertMentions(e, "host swap");
    writeAll(filler, 0, 4, 1);
    MachineSnapshot s = machine.snapshot();
    assertEquals(0, s.freeFrames());
    assertEquals(2, s.hostSwapUsed());
    for (int pfn = 0; pfn < 4; pfn++) {
      assertArrayEquals(new long[] {token(filler.id(), pfn, 1)}, apply(filler, batch().read(pfn)).reads());
    }
    assertConsistent();
  }

  @Test
  void aVmLargerThanMemoryAndSwapTogetherIsRefused() {
    newMachine(8, 16, 32);
    MachineException e = refused(MachineException.Reason.INVALID_ARGUMENT,
        () -> machine.powerOn("huge", "linux", 25));
    assertMentions(e, "24 pages");
    assertEquals(0, machine.snapshot().vms().size());
  }

  @Test
  void theHostSwapFileIsUnlinkedOnceOpenSoNothingIsLeftBehind() throws Exception {
    newMachine(2, 2, 2);
    Path file = dir.resolve("host.swap");
    assertFalse(Files.exists(file), "the name is gone while the machine runs");
    try (var left = Files.list(dir)) {
      assertEquals(0, left.count());
    }
    machine.close();
    machine = null;
  }
}
