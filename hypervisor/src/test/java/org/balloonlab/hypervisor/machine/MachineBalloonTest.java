package org.balloonlab.hypervisor.machine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.balloonlab.domain.DriverMode;
import org.balloonlab.domain.DriverMode.Kind;
import org.balloonlab.hypervisor.mmu.TlbConfig;
import org.balloonlab.hypervisor.time.CostModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The balloon in the machine's domain: sessions, lock and unlock with their per-page statuses, the frames a lock
 * gives back, the reset when the guest touches a page it gave away, targets, driver modes and the change listener.
 * Every step is followed by a full check of the frame table against the P2Ms.
 */
class MachineBalloonTest {
  /** Translation costs are 0 here, so charges are the P2M's alone; MachineTranslationTest charges translation. */
  static final CostModel COSTS = new CostModel(1, 10, 1_000, 100, 7, 7, 20_000, 300_000, 0, 0, 0);
  static final int BATCH = 8;
  /** A stall timeout no test can reach: a driver is never uncooperative. */
  static final long NEVER = Long.MAX_VALUE;

  @TempDir
  Path dir;

  private Machine machine;
  /** VM ids the balloon listener was called with, in order. */
  private final List<Integer> rings = new CopyOnWriteArrayList<>();

  private Machine newMachine(int frames, int slots) {
    return newMachine(frames, slots, BATCH, NEVER);
  }

  private Machine newMachine(int frames, int slots, int balloonBatch, long stallNanos) {
    machine = new Machine(new MachineConfig(frames, slots, dir.resolve("host.swap"), 64, COSTS, 42, balloonBatch,
        stallNanos));
    machine.onBalloonChange(rings::add);
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

  static long token(int vmId, int pfn) {
    return 0x8000_0000_0000_0000L | ((long) vmId << 32) | pfn;
  }

  private void assertConsistent() {
    machine.checkInvariants();
    MachineSnapshot s = machine.snapshot();
    assertEquals(s.machineFrames(), s.freeFrames() + s.mappedFrames(), "free + mapped == machine frames");
    assertEquals(s.vms().stream().mapToLong(VmSnapshot::hostSwappedPages).sum(), s.hostSwapUsed(),
        "every used host swap slot belongs to a swapped page");
    for (VmSnapshot v : s.vms()) {
      BalloonSnapshot b = v.balloon();
      assertTrue(v.mappedPages() + v.hostSwappedPages() + b.sizePages() <= v.memoryPages(), v.toString());
      assertTrue(b.sizePages() >= 0 && b.sizePages() <= v.memoryPages(), b.toString());
      assertTrue(b.targetPages() >= 0 && b.targetPages() <= v.memoryPages(), b.toString());
    }
  }

  /** Applies accesses the way the transport does (validate, then apply) and checks the accounting. */
  private long[] access(Vm vm, byte op, int... pfns) {
    byte[] ops = new byte[pfns.length];
    Arrays.fill(ops, op);
    int writes = op == AccessOps.WRITE ? pfns.length : 0;
    long[] values = new long[writes];
    for (int i = 0; i < writes; i++) {
      values[i] = token(vm.id(), pfns[i]);
    }
    machine.validateBatch(vm, pfns.length, ops, pfns, writes);
    long[] reads = new long[pfns.length];
    BatchResult result = new BatchResult();
    machine.applyBatch(vm, pfns.length, ops, pfns, values, reads, result);
    assertConsistent();
    return Arrays.copyOf(reads, result.reads());
  }

  /** Writes each PFN's own token. */
  private void write(Vm vm, int... pfns) {
    access(vm, AccessOps.WRITE, pfns);
  }

  private long[] read(Vm vm, int... pfns) {
    return access(vm, AccessOps.READ, pfns);
  }

  static int[] range(int from, int to) {
    return IntStream.range(from, to).toArray();
  }

  record Outcome(List<BalloonPageStatus> statuses, BalloonReply reply) {}

  /** Opens a driver session with every capability, as a current driver does; answers its id. */
  private long startSession(Vm vm) {
    return machine.openBalloonSession(vm, true, true, true).id();
  }

  private Outcome lock(Vm vm, long session, int... pfns) {
    BalloonPageStatus[] statuses = new BalloonPageStatus[pfns.length];
    BalloonReply reply = machine.balloonMove(vm, session, 0, true, pfns, pfns.length, statuses);
    assertConsistent();
    return new Outcome(List.of(statuses), reply);
  }

  private Outcome unlock(Vm vm, long session, int... pfns) {
    BalloonPageStatus[] statuses = new BalloonPageStatus[pfns.length];
    BalloonReply reply = machine.balloonMove(vm, session, 0, false, pfns, pfns.length, statuses);
    assertConsistent();
    return new Outcome(List.of(statuses), reply);
  }

  private void setTarget(Vm vm, long pages) {
    VmSnapshot v = machine.setBalloonTarget(vm, pages);
    assertEquals(pages, v.balloon().targetPages());
    assertConsistent();
  }

  private BalloonSnapshot balloon(Vm vm) {
    return machine.vm(vm.id()).balloon();
  }

  static List<BalloonPageStatus> statuses(BalloonPageStatus... s) {
    return List.of(s);
  }

  static List<BalloonPageStatus> all(BalloonPageStatus s, int n) {
    BalloonPageStatus[] a = new BalloonPageStatus[n];
    Arrays.fill(a, s);
    return List.of(a);
  }

  /**
   * Everything the machine holds for a VM that a refused request must not change: its P2M entry by entry, its
   * counts, its counters, its balloon (all but the time since last contact) and the machine's free frames and
   * swap.
   */
  private List<Object> state(Vm vm) {
    VmSnapshot v = machine.vm(vm.id());
    MachineSnapshot m = machine.snapshot();
    VmCounters c = v.counters();
    BalloonSnapshot b = v.balloon();
    int[] p2m = new int[vm.memoryPages()];
    for (int pfn = 0; pfn < p2m.length; pfn++) {
      p2m[pfn] = vm.p2m.get(pfn);
    }
    return List.of(Arrays.toString(p2m), v.mappedPages(), v.hostSwappedPages(),
        List.of(c.accesses(), c.reads(), c.writes(), c.hiddenFaults(), c.demandZeroFaults(), c.hostSwapInFaults(),
            c.hostPageOuts(), c.hostPageIns(), c.framesZeroed(), c.hypervisorNs(), c.balloonFaults()),
        List.of(b.targetPages(), b.sizePages(), b.driverConnected(), b.sessionId(), b.refusedPages(),
            b.uncooperative(), String.valueOf(b.requestedMode()), b.resets(), b.lockedTotal(), b.unlockedTotal()),
        m.freeFrames(), m.mappedFrames(), m.hostSwapUsed(), m.hostPageOuts(), m.hostPageIns());
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

  /** Busy-waits (no sleep) until the monotonic clock has moved on by more than {@code nanos}. */
  private static void letClockPass(long nanos) {
    long start = System.nanoTime();
    while (System.nanoTime() - start <= nanos) {
      Thread.onSpinWait();
    }
  }

  // ---------------------------------------------------------------- configuration

  @Test
  void configRefusesNonPositiveBalloonLimitsAndHasDefaults() {
    Path file = dir.resolve("x.swap");
    assertMentions(assertThrows(IllegalArgumentException.class,
        () -> new MachineConfig(1, 1, file, 1, COSTS, 1, 0, 1)), "balloon");
    assertThrows(IllegalArgumentException.class, () -> new MachineConfig(1, 1, file, 1, COSTS, 1, -1, 1));
    assertMentions(assertThrows(IllegalArgumentException.class,
        () -> new MachineConfig(1, 1, file, 1, COSTS, 1, 1, 0)), "stall");
    assertThrows(IllegalArgumentException.class, () -> new MachineConfig(1, 1, file, 1, COSTS, 1, 1, -5));
    MachineConfig defaults = new MachineConfig(1, 1, file, 1, COSTS, 1);
    assertEquals(512, defaults.balloonBatchPages());
    assertEquals(MachineConfig.DEFAULT_BALLOON_STALL_NANOS, defaults.balloonStallNanos());
  }

  @Test
  void aNewVmHasAnEmptyBalloonAndNoDriver() {
    newMachine(8, 16);
    Vm vm = machine.powerOn("vm", "linux", 16);
    BalloonSnapshot b = balloon(vm);
    assertEquals(new BalloonSnapshot(0, 0, false, 0, 0, -1, false, null, 0, 0, 0), b);
    assertTrue(rings.isEmpty(), "powering on rings nothing");
  }

  // ---------------------------------------------------------------- lock

  @Test
  void aDriverThatHangsUpItsSessionIsNoLongerConnectedAndKeepsItsBalloon() {
    newMachine(16, 32);
    Vm vm = machine.powerOn("vm", "linux", 16);
    setTarget(vm, 4);
    long session = startSession(vm);
    lock(vm, session, 0, 1, 2, 3);
    machine.balloonHungUp(vm.id(), session + 1);
    assertTrue(machine.vm(vm.id()).balloon().driverConnected(), "another session's hang-up changes nothing");
    machine.balloonHungUp(vm.id(), session);
    VmSnapshot v = machine.vm(vm.id());
    assertFalse(v.balloon().driverConnected());
    assertEquals(4, v.balloon().sizePages(), "the pages stay ballooned");
    refused(MachineException.Reason.FAILED_PRECONDITION, () -> machine.balloonTarget(vm, session));
    assertConsistent();
  }

  @Test
  void lockingMappedPagesFreesExactlyOneFrameEach() {
    newMachine(16, 32);
    Vm vm = machine.powerOn("vm", "linux", 16);
    write(vm, range(0, 10));
    setTarget(vm, 4);
    long session = startSession(vm);
    assertConsistent();
    MachineSnapshot before = machine.snapshot();
    assertEquals(6, before.freeFrames());
    assertEquals(10, machine.vm(vm.id()).mappedPages());

    Outcome o = lock(vm, session, 0, 1, 2, 3);
    assertEquals(all(BalloonPageStatus.OK, 4), o.statuses());
    assertEquals(new BalloonReply(4, false, null), o.reply());
    MachineSnapshot after = machine.snapshot();
    assertEquals(before.freeFrames() + 4, after.freeFrames());
    assertEquals(before.mappedFrames() - 4, after.mappedFrames());
    VmSnapshot v = machine.vm(vm.id());
    assertEquals(6, v.mappedPages());
    assertEquals(4, v.balloon().sizePages());
    assertEquals(4, v.balloon().lockedTotal());
    assertEquals(0, v.balloon().refusedPages());
    for (int pfn = 0; pfn < 4; pfn++) {
      assertEquals(P2m.BALLOONED, vm.p2m.get(pfn), "PFN " + pfn);
    }
    // The pages the driver kept still hold their data.
    for (int pfn = 4; pfn < 10; pfn++) {
      assertArrayEquals(new long[] {token(vm.id(), pfn)}, read(vm, pfn));
    }
  }

  @Test
  void lockingBeyondTheTargetIsRefusedCountedAndChangesNothing() {
    newMachine(16, 32);
    Vm vm = machine.powerOn("vm", "linux", 16);
    write(vm, range(0, 10));
    setTarget(vm, 3);
    long session = startSession(vm);

    // The batch straddles the target: the first three are taken, the rest refused.
    Outcome o = lock(vm, session, 0, 1, 2, 3, 4);
    assertEquals(statuses(BalloonPageStatus.OK, BalloonPageStatus.OK, BalloonPageStatus.OK,
        BalloonPageStatus.REFUSED, BalloonPageStatus.REFUSED), o.statuses());
    assertEquals(3, o.reply().targetPages());
    BalloonSnapshot b = balloon(vm);
    assertEquals(3, b.sizePages());
    assertEquals(2, b.refusedPages());
    assertEquals(3, b.lockedTotal());

    List<Object> full = state(vm);
    Outcome more = lock(vm, session, 5, 6);
    assertEquals(all(BalloonPageStatus.REFUSED, 2), more.statuses());
    assertEquals(4, balloon(vm).refusedPages(), "each refused page is counted");
    List<Object> after = state(vm);
    assertNotEquals(full, after);
    // Only the refusal count moved: the refused pages keep their frames and data.
    assertEquals(full.subList(0, 4), after.subList(0, 4));
    assertEquals(full.subList(5, full.size()), after.subList(5, after.size()));
    assertArrayEquals(new long[] {token(vm.id(), 3), token(vm.id(), 4), token(vm.id(), 5), token(vm.id(), 6)},
        read(vm, 3, 4, 5, 6));

    // With no target at all, every page is refused.
    Vm idle = machine.powerOn("idle", "linux", 4);
    long s2 = startSession(idle);
    assertEquals(all(BalloonPageStatus.REFUSED, 4), lock(idle, s2, 0, 1, 2, 3).statuses());
    assertEquals(0, balloon(idle).sizePages());
  }

  @Test
  void lockingAHostSwappedPageReleasesItsSwapSlot() {
    newMachine(4, 16);
    Vm vm = machine.powerOn("vm", "linux", 8);
    write(vm, range(0, 8));
    VmSnapshot before = machine.vm(vm.id());
    assertEquals(4, before.hostSwappedPages());
    int swapped = -1;
    for (int pfn = 0; pfn < 8 && swapped < 0; pfn++) {
      if (P2m.isSwapped(vm.p2m.get(pfn))) {
        swapped = pfn;
      }
    }
    assertTrue(swapped >= 0);
    MachineSnapshot m = machine.snapshot();
    setTarget(vm, 1);
    long session = startSession(vm);

    assertEquals(statuses(BalloonPageStatus.OK), lock(vm, session, swapped).statuses());
    MachineSnapshot after = machine.snapshot();
    assertEquals(m.hostSwapUsed() - 1, after.hostSwapUsed(), "the slot is released");
    assertEquals(m.freeFrames(), after.freeFrames(), "a swapped page had no frame to give back");
    assertEquals(3, machine.vm(vm.id()).hostSwappedPages());
    assertEquals(4, machine.vm(vm.id()).mappedPages());
    assertEquals(P2m.BALLOONED, vm.p2m.get(swapped));
    assertEquals(1, balloon(vm).sizePages());
  }

  @Test
  void anUntouchedPageCanBeLockedWithoutAnyFrameMoving() {
    newMachine(8, 16);
    Vm vm = machine.powerOn("vm", "linux", 8);
    write(vm, 0, 1);
    setTarget(vm, 2);
    long session = startSession(vm);
    MachineSnapshot m = machine.snapshot();
    assertEquals(statuses(BalloonPageStatus.OK, BalloonPageStatus.OK), lock(vm, session, 5, 7).statuses());
    MachineSnapshot after = machine.snapshot();
    assertEquals(m.freeFrames(), after.freeFrames());
    assertEquals(m.hostSwapUsed(), after.hostSwapUsed());
    assertEquals(2, machine.vm(vm.id()).mappedPages());
    assertEquals(2, balloon(vm).sizePages());
    assertEquals(P2m.BALLOONED, vm.p2m.get(5));
    assertEquals(P2m.BALLOONED, vm.p2m.get(7));
  }

  @Test
  void perPageStatusesForInvalidDuplicateAndAlreadyLockedPages() {
    newMachine(16, 32, 16, NEVER);
    Vm vm = machine.powerOn("vm", "linux", 16);
    write(vm, range(0, 8));
    setTarget(vm, 6);
    long session = startSession(vm);

    Outcome o = lock(vm, session, 2, 3, 2, 5, 3, -1, 16, 2, Integer.MAX_VALUE, Integer.MIN_VALUE);
    assertEquals(statuses(BalloonPageStatus.OK, BalloonPageStatus.OK, BalloonPageStatus.DUPLICATE,
        BalloonPageStatus.OK, BalloonPageStatus.DUPLICATE, BalloonPageStatus.INVALID, BalloonPageStatus.INVALID,
        BalloonPageStatus.DUPLICATE), o.statuses().subList(0, 8));
    assertEquals(all(BalloonPageStatus.INVALID, 2), o.statuses().subList(8, 10));
    BalloonSnapshot b = balloon(vm);
    assertEquals(3, b.sizePages(), "each page is locked once");
    assertEquals(3, b.lockedTotal());
    assertEquals(0, b.refusedPages(), "invalid and duplicate pages are not refusals");

    // Repeated invalid PFNs are invalid every time, not duplicates.
    assertEquals(all(BalloonPageStatus.INVALID, 3), lock(vm, session, -7, -7, 99).statuses());

    // A page locked before is ALREADY_LOCKED, in a later batch and within one.
    assertEquals(statuses(BalloonPageStatus.ALREADY_LOCKED, BalloonPageStatus.OK, BalloonPageStatus.DUPLICATE),
        lock(vm, session, 5, 6, 6).statuses());
    assertEquals(4, balloon(vm).sizePages());

    // At the target, a page already in the balloon is still ALREADY_LOCKED, not REFUSED.
    setTarget(vm, 4);
    assertEquals(statuses(BalloonPageStatus.ALREADY_LOCKED, BalloonPageStatus.REFUSED, BalloonPageStatus.DUPLICATE),
        lock(vm, session, 2, 9, 9).statuses());
    assertEquals(1, balloon(vm).refusedPages(), "a duplicate of a refused page is not counted again");
    assertEquals(4, balloon(vm).sizePages());

    // An empty batch is answered with the target and changes nothing.
    List<Object> before = state(vm);
    Outcome empty = lock(vm, session);
    assertEquals(List.of(), empty.statuses());
    assertEquals(4, empty.reply().targetPages());
    assertEquals(before, state(vm));
  }

  @Test
  void theFirstOccurrenceOfADuplicateIsTheOneApplied() {
    newMachine(8, 16);
    Vm vm = machine.powerOn("vm", "linux", 8);
    setTarget(vm, 8);
    long session = startSession(vm);
    // Sorted, 7 comes after 1, but statuses follow the batch's order.
    assertEquals(statuses(BalloonPageStatus.OK, BalloonPageStatus.OK, BalloonPageStatus.DUPLICATE,
        BalloonPageStatus.DUPLICATE, BalloonPageStatus.DUPLICATE), lock(vm, session, 7, 1, 7, 1, 7).statuses());
    assertEquals(2, balloon(vm).sizePages());
  }

  // ---------------------------------------------------------------- unlock

  @Test
  void anUnlockedPageReadsAsZeroOnItsNextTouch() {
    newMachine(8, 16);
    Vm vm = machine.powerOn("vm", "linux", 8);
    write(vm, range(0, 4));
    setTarget(vm, 2);
    long session = startSession(vm);
    assertEquals(all(BalloonPageStatus.OK, 2), lock(vm, session, 1, 2).statuses());
    setTarget(vm, 0);
    MachineSnapshot m = machine.snapshot();

    Outcome o = unlock(vm, session, 1);
    assertEquals(statuses(BalloonPageStatus.OK), o.statuses());
    assertEquals(new BalloonReply(0, false, null), o.reply());
    assertEquals(P2m.UNTOUCHED, vm.p2m.get(1));
    BalloonSnapshot b = balloon(vm);
    assertEquals(1, b.sizePages());
    assertEquals(1, b.unlockedTotal());
    assertEquals(m.freeFrames(), machine.snapshot().freeFrames(), "an unlock takes no frame until the touch");

    long zeroFaults = machine.vm(vm.id()).counters().demandZeroFaults();
    assertArrayEquals(new long[] {0L}, read(vm, 1), "the guest gave the page away: its old data is gone");
    VmCounters c = machine.vm(vm.id()).counters();
    assertEquals(zeroFaults + 1, c.demandZeroFaults());
    assertEquals(0, c.balloonFaults(), "touching an unlocked page is no balloon fault");
    assertEquals(0, balloon(vm).resets());
    assertEquals(1, balloon(vm).sizePages(), "PFN 2 is still in the balloon");
    assertEquals(m.freeFrames() - 1, machine.snapshot().freeFrames());
  }

  @Test
  void unlockStatusesForPagesNotInTheBalloon() {
    newMachine(8, 16);
    Vm vm = machine.powerOn("vm", "linux", 8);
    write(vm, 0, 1);
    setTarget(vm, 2);
    long session = startSession(vm);
    lock(vm, session, 3);

    List<Object> before = state(vm);
    // Mapped, untouched, out of range, negative: none is in the balloon.
    assertEquals(statuses(BalloonPageStatus.NOT_LOCKED, BalloonPageStatus.NOT_LOCKED, BalloonPageStatus.INVALID,
        BalloonPageStatus.INVALID), unlock(vm, session, 0, 5, 8, -1).statuses());
    assertEquals(before, state(vm), "a page never locked is left alone");
    assertArrayEquals(new long[] {token(vm.id(), 0)}, read(vm, 0));

    assertEquals(statuses(BalloonPageStatus.OK, BalloonPageStatus.DUPLICATE), unlock(vm, session, 3, 3).statuses());
    assertEquals(statuses(BalloonPageStatus.NOT_LOCKED), unlock(vm, session, 3).statuses(), "unlocked twice");
    BalloonSnapshot b = balloon(vm);
    assertEquals(0, b.sizePages());
    assertEquals(1, b.lockedTotal());
    assertEquals(1, b.unlockedTotal());
  }

  // ---------------------------------------------------------------- sessions and batches

  @Test
  void callsWithoutTheCurrentSessionAreFailedPrecondition() {
    newMachine(8, 16);
    Vm vm = machine.powerOn("vm", "linux", 8);
    Vm other = machine.powerOn("other", "linux", 8);
    write(vm, range(0, 4));
    setTarget(vm, 4);
    List<Object> before = state(vm);
    BalloonPageStatus[] st = new BalloonPageStatus[1];
    for (long noSession : new long[] {0, 1, -1, Long.MAX_VALUE}) {
      refused(MachineException.Reason.FAILED_PRECONDITION, () -> machine.balloonTarget(vm, noSession));
      refused(MachineException.Reason.FAILED_PRECONDITION, () -> machine.balloonStats(vm, noSession));
      refused(MachineException.Reason.FAILED_PRECONDITION,
          () -> machine.balloonMove(vm, noSession, 0, true, new int[] {0}, 1, st));
      refused(MachineException.Reason.FAILED_PRECONDITION,
          () -> machine.balloonMove(vm, noSession, 0, false, new int[] {0}, 1, st));
    }
    assertEquals(before, state(vm));
    assertEquals(-1, balloon(vm).lastContactNanosAgo(), "refused calls are no contact");

    long first = startSession(vm);
    assertNotEquals(0, first);
    assertEquals(statuses(BalloonPageStatus.OK), lock(vm, first, 0).statuses());
    BalloonSnapshot b = balloon(vm);
    assertTrue(b.driverConnected());
    assertEquals(first, b.sessionId());
    assertTrue(b.lastContactNanosAgo() >= 0);

    // A new session replaces the old one; what the old one locked stays locked.
    long second = startSession(vm);
    assertNotEquals(first, second);
    assertEquals(second, balloon(vm).sessionId());
    assertEquals(1, balloon(vm).sizePages());
    List<Object> replaced = state(vm);
    MachineException e = refused(MachineException.Reason.FAILED_PRECONDITION,
        () -> machine.balloonMove(vm, first, 0, true, new int[] {1}, 1, st));
    assertMentions(e, String.valueOf(first), "start a new one");
    refused(MachineException.Reason.FAILED_PRECONDITION,
        () -> machine.balloonMove(vm, first, 0, false, new int[] {0}, 1, st));
    refused(MachineException.Reason.FAILED_PRECONDITION, () -> machine.balloonTarget(vm, first));
    refused(MachineException.Reason.FAILED_PRECONDITION, () -> machine.balloonStats(vm, first));
    assertEquals(replaced, state(vm));
    assertEquals(statuses(BalloonPageStatus.ALREADY_LOCKED, BalloonPageStatus.OK),
        lock(vm, second, 0, 1).statuses());
    assertEquals(statuses(BalloonPageStatus.OK), unlock(vm, second, 0).statuses());

    // Another VM's session is no session for this one.
    long theirs = startSession(other);
    refused(MachineException.Reason.FAILED_PRECONDITION, () -> machine.balloonTarget(vm, theirs));
    refused(MachineException.Reason.FAILED_PRECONDITION,
        () -> machine.balloonMove(vm, theirs, 0, true, new int[] {2}, 1, st));
    assertEquals(new BalloonReply(4, false, null), machine.balloonTarget(vm, second));
    assertEquals(new BalloonReply(4, false, null), machine.balloonStats(vm, second));
  }

  @Test
  void aBatchOverTheLimitIsInvalidArgumentAndChangesNothing() {
    newMachine(16, 32, 4, NEVER);
    Vm vm = machine.powerOn("vm", "linux", 16);
    write(vm, range(0, 8));
    setTarget(vm, 8);
    long session = startSession(vm);
    lock(vm, session, 7);
    List<Object> before = state(vm);

    int[] five = {0, 1, 2, 3, 4};
    BalloonPageStatus[] st = new BalloonPageStatus[5];
    assertMentions(refused(MachineException.Reason.INVALID_ARGUMENT,
        () -> machine.balloonMove(vm, session, 0, true, five, 5, st)), "at most 4", "got 5");
    assertMentions(refused(MachineException.Reason.INVALID_ARGUMENT,
        () -> machine.balloonMove(vm, session, 0, false, new int[] {7, 7, 7, 7, 7}, 5, st)), "at most 4");
    assertEquals(before, state(vm));
    assertArrayEquals(new long[] {token(vm.id(), 0), token(vm.id(), 4)}, read(vm, 0, 4));

    // At the limit it is taken.
    assertEquals(all(BalloonPageStatus.OK, 4), lock(vm, session, 0, 1, 2, 3).statuses());
  }

  // ---------------------------------------------------------------- reset

  @Test
  void touchingABalloonedPageResetsTheBalloon() {
    newMachine(16, 32);
    Vm vm = machine.powerOn("vm", "linux", 16);
    write(vm, range(0, 6));
    setTarget(vm, 4);
    long session = startSession(vm);
    lock(vm, session, 0, 1, 2, 9);
    rings.clear();
    MachineSnapshot m = machine.snapshot();
    VmCounters c0 = machine.vm(vm.id()).counters();

    // The guest touches PFN 1 and PFN 9 in one batch: one balloon fault, then a plain demand-zero fault.
    assertArrayEquals(new long[] {0L, token(vm.id(), 3), 0L}, read(vm, 1, 3, 9));
    VmCounters c = machine.vm(vm.id()).counters();
    assertEquals(1, c.balloonFaults());
    assertEquals(c0.hiddenFaults() + 2, c.hiddenFaults());
    assertEquals(c0.demandZeroFaults() + 2, c.demandZeroFaults(), "both pages come back as zero pages");
    BalloonSnapshot b = balloon(vm);
    assertEquals(0, b.sizePages());
    assertEquals(1, b.resets());
    assertEquals(4, b.targetPages(), "the target stays");
    assertEquals(4, b.lockedTotal());
    assertEquals(P2m.UNTOUCHED, vm.p2m.get(0), "every ballooned page becomes untouched");
    assertEquals(P2m.UNTOUCHED, vm.p2m.get(2));
    assertTrue(P2m.isMapped(vm.p2m.get(1)));
    assertTrue(P2m.isMapped(vm.p2m.get(9)));
    assertEquals(m.freeFrames() - 2, machine.snapshot().freeFrames());
    assertEquals(List.of(vm.id()), rings, "the reset rings once");

    // Until the driver starts over, every call answers reset and nothing is done.
    List<Object> pending = state(vm);
    Outcome l = lock(vm, session, 0, 3, -1, 3);
    assertEquals(all(BalloonPageStatus.RESET, 4), l.statuses());
    assertTrue(l.reply().reset());
    Outcome u = unlock(vm, session, 2, 5);
    assertEquals(all(BalloonPageStatus.RESET, 2), u.statuses());
    assertTrue(u.reply().reset());
    assertTrue(machine.balloonTarget(vm, session).reset());
    assertTrue(machine.balloonStats(vm, session).reset());
    assertEquals(pending, state(vm));
    assertArrayEquals(new long[] {token(vm.id(), 3)}, read(vm, 3));
    assertTrue(machine.balloonReplyOrNull(vm.id()).reset());

    long fresh = startSession(vm);
    assertFalse(machine.balloonTarget(vm, fresh).reset());
    Outcome again = lock(vm, fresh, 0, 2);
    assertEquals(all(BalloonPageStatus.OK, 2), again.statuses());
    assertFalse(again.reply().reset());
    assertEquals(2, balloon(vm).sizePages());
    assertEquals(1, machine.vm(vm.id()).counters().balloonFaults());
  }

  @Test
  void aWriteToABalloonedPageResetsTooAndStoresTheValue() {
    newMachine(8, 16);
    Vm vm = machine.powerOn("vm", "linux", 8);
    setTarget(vm, 1);
    long session = startSession(vm);
    lock(vm, session, 4);
    write(vm, 4);
    assertEquals(1, machine.vm(vm.id()).counters().balloonFaults());
    assertEquals(1, balloon(vm).resets());
    assertArrayEquals(new long[] {token(vm.id(), 4)}, read(vm, 4));
  }

  @Test
  void aBalloonFaultCanPageAnotherVmOutWhenMemoryIsFull() {
    newMachine(4, 16);
    Vm vm = machine.powerOn("vm", "linux", 4);
    Vm hog = machine.powerOn("hog", "linux", 8);
    write(vm, range(0, 4));
    setTarget(vm, 2);
    long session = startSession(vm);
    lock(vm, session, 0, 1);
    write(hog, 0, 1);
    assertEquals(0, machine.snapshot().freeFrames());
    long[] back = read(vm, 0, 1, 2, 3);
    assertArrayEquals(new long[] {0L, 0L, token(vm.id(), 2), token(vm.id(), 3)}, back);
    assertEquals(1, machine.vm(vm.id()).counters().balloonFaults());
    assertTrue(machine.snapshot().hostPageOuts() >= 2, "the ballooned pages needed frames back");
    assertArrayEquals(new long[] {token(hog.id(), 0), token(hog.id(), 1)}, read(hog, 0, 1));
  }

  // ---------------------------------------------------------------- targets

  @ParameterizedTest
  @ValueSource(longs = {-1, 17, Long.MIN_VALUE, Long.MAX_VALUE, Integer.MAX_VALUE + 1L})
  void aTargetOutsideTheVmIsInvalidArgument(long target) {
    newMachine(8, 16);
    Vm vm = machine.powerOn("vm", "linux", 16);
    setTarget(vm, 3);
    rings.clear();
    List<Object> before = state(vm);
    MachineException e = refused(MachineException.Reason.INVALID_ARGUMENT, () -> machine.setBalloonTarget(vm, target));
    assertMentions(e, String.valueOf(target), "16");
    assertEquals(before, state(vm));
    assertTrue(rings.isEmpty());
  }

  @Test
  void targetsFromZeroToTheVmSizeAreAccepted() {
    newMachine(8, 16);
    Vm vm = machine.powerOn("vm", "linux", 16);
    setTarget(vm, 16);
    setTarget(vm, 0);
    long session = startSession(vm);
    setTarget(vm, 16);
    assertEquals(16, machine.balloonTarget(vm, session).targetPages());
    assertEquals(all(BalloonPageStatus.OK, 8), lock(vm, session, range(0, 8)).statuses());
    assertEquals(all(BalloonPageStatus.OK, 8), lock(vm, session, range(8, 16)).statuses());
    assertEquals(16, balloon(vm).sizePages(), "a VM can give every page away");
    assertEquals(8, machine.snapshot().freeFrames());
  }

  @Test
  void aPoweredOffVmHasNoBalloon() {
    newMachine(8, 16);
    Vm vm = machine.powerOn("vm", "linux", 8);
    write(vm, range(0, 4));
    setTarget(vm, 2);
    long session = startSession(vm);
    lock(vm, session, 0, 6);
    machine.powerOff(vm.id(), vm.credential());
    assertConsistent();
    assertEquals(8, machine.snapshot().freeFrames());
    assertNull(machine.balloonReplyOrNull(vm.id()));
    BalloonPageStatus[] st = new BalloonPageStatus[1];
    refused(MachineException.Reason.FAILED_PRECONDITION, () -> startSession(vm));
    refused(MachineException.Reason.FAILED_PRECONDITION, () -> machine.balloonTarget(vm, session));
    refused(MachineException.Reason.FAILED_PRECONDITION, () -> machine.balloonStats(vm, session));
    refused(MachineException.Reason.FAILED_PRECONDITION,
        () -> machine.balloonMove(vm, session, 0, true, new int[] {1}, 1, st));
    refused(MachineException.Reason.FAILED_PRECONDITION,
        () -> machine.balloonMove(vm, session, 0, false, new int[] {0}, 1, st));
    refused(MachineException.Reason.FAILED_PRECONDITION, () -> machine.setBalloonTarget(vm, 1));
    refused(MachineException.Reason.FAILED_PRECONDITION,
        () -> machine.setDriverMode(vm, DriverMode.checked(Kind.ENABLED, 0, 0, 0)));
    refused(MachineException.Reason.NOT_FOUND, () -> machine.vmById(vm.id()));
    refused(MachineException.Reason.NOT_FOUND, () -> machine.vmByName("vm"));
    assertConsistent();
  }

  @Test
  void operatorsFindVmsByIdAndByName() {
    newMachine(8, 16);
    Vm a = machine.powerOn("a", "linux", 8);
    Vm b = machine.powerOn("b", "linux", 8);
    assertEquals(a, machine.vmById(a.id()));
    assertEquals(b, machine.vmByName("b"));
    assertMentions(refused(MachineException.Reason.NOT_FOUND, () -> machine.vmById(99)), "99");
    assertMentions(refused(MachineException.Reason.NOT_FOUND, () -> machine.vmByName("c")), "'c'");
    refused(MachineException.Reason.NOT_FOUND, () -> machine.vmByName(""));
    refused(MachineException.Reason.NOT_FOUND, () -> machine.vmByName(null));
  }

  @Test
  void framesALockGivesBackServeAnotherVmWithoutHostPaging() {
    newMachine(8, 32);
    Vm a = machine.powerOn("a", "linux", 8);
    Vm b = machine.powerOn("b", "linux", 8);
    write(a, range(0, 8));
    assertEquals(0, machine.snapshot().freeFrames());
    setTarget(a, 4);
    long session = startSession(a);
    assertEquals(all(BalloonPageStatus.OK, 4), lock(a, session, 0, 1, 2, 3).statuses());
    assertEquals(4, machine.snapshot().freeFrames());

    write(b, range(0, 4));
    MachineSnapshot m = machine.snapshot();
    assertEquals(0, m.hostPageOuts(), "b's demand was met by the balloon's frames");
    assertEquals(0, m.hostSwapUsed());
    assertEquals(0, m.freeFrames());
    assertEquals(4, machine.vm(b.id()).mappedPages());
    assertEquals(0, machine.vm(b.id()).counters().hostPageOuts());
    assertEquals(0, machine.vm(a.id()).counters().hostPageOuts());
    assertArrayEquals(IntStream.range(0, 4).mapToLong(p -> token(b.id(), p)).toArray(), read(b, range(0, 4)));
    assertArrayEquals(IntStream.range(4, 8).mapToLong(p -> token(a.id(), p)).toArray(), read(a, range(4, 8)));

    // Past what the balloon gave, the hypervisor has to page again.
    write(b, 4);
    assertEquals(1, machine.snapshot().hostPageOuts());
  }

  // ---------------------------------------------------------------- uncooperative drivers

  @Test
  void aDriverThatMissesItsTargetForTheStallTimeoutIsUncooperative() {
    newMachine(16, 32, BATCH, 1);
    Vm vm = machine.powerOn("vm", "linux", 16);
    write(vm, range(0, 8));
    letClockPass(2);
    assertFalse(balloon(vm).uncooperative(), "a balloon at its target (0) is never uncooperative");

    setTarget(vm, 4);
    letClockPass(2);
    assertTrue(balloon(vm).uncooperative(), "no driver inflated within 1 ns");
    long session = startSession(vm);
    letClockPass(2);
    assertTrue(balloon(vm).uncooperative(), "opening a session is no progress");

    lock(vm, session, 0, 1);
    letClockPass(2);
    assertTrue(balloon(vm).uncooperative(), "half way is not there");
    lock(vm, session, 2, 3);
    letClockPass(2);
    assertFalse(balloon(vm).uncooperative(), "meeting the target clears it");

    // Deflation counts too: a balloon above its target is uncooperative until it comes down.
    setTarget(vm, 1);
    letClockPass(2);
    assertTrue(balloon(vm).uncooperative());
    unlock(vm, session, 0, 1, 2);
    letClockPass(2);
    assertFalse(balloon(vm).uncooperative());
    assertEquals(1, balloon(vm).sizePages());
  }

  @Test
  void stallsAndContactAgesFollowTheInjectedClockAlone() {
    AtomicLong now = new AtomicLong(1_000);
    machine = new Machine(new MachineConfig(16, 32, dir.resolve("host.swap"), 64, COSTS, 42, BATCH, 100),
        TlbConfig.DEFAULT, now::get);
    Vm vm = machine.powerOn("vm", "linux", 16);
    setTarget(vm, 4);
    long session = startSession(vm);
    now.addAndGet(100);
    letClockPass(1_000_000);
    BalloonSnapshot b = balloon(vm);
    assertFalse(b.uncooperative(), "100 ns of the machine's clock is not more than the stall timeout");
    assertEquals(100, b.lastContactNanosAgo(), "the session opened at the injected time");
    now.addAndGet(1);
    assertTrue(balloon(vm).uncooperative(), "one more nanosecond of the machine's clock is");
    lock(vm, session, 0, 1, 2, 3);
    assertEquals(0, balloon(vm).lastContactNanosAgo());
    assertFalse(balloon(vm).uncooperative());

    // The detach timeout alone is a wall-clock grace: a lab clock held still must not keep a dead guest's VM on.
    machine.attach(vm);
    machine.detach(vm);
    now.addAndGet(1_000_000_000_000L);
    long hour = 3_600_000_000_000L;
    assertEquals(0, machine.reapDetached(System.nanoTime(), hour), "the machine's clock does not age a detach");
    assertEquals(1, machine.reapDetached(System.nanoTime() + 2 * hour, hour));
  }

  @Test
  void withALongStallTimeoutAMissedTargetIsNotYetUncooperative() {
    newMachine(16, 32, BATCH, NEVER);
    Vm vm = machine.powerOn("vm", "linux", 16);
    setTarget(vm, 4);
    letClockPass(2);
    assertFalse(balloon(vm).uncooperative());
  }

  // ---------------------------------------------------------------- driver modes

  @Test
  void aRequestedModeIsStoredAndCarriedInEveryReply() {
    newMachine(8, 16);
    Vm vm = machine.powerOn("vm", "linux", 8);
    setTarget(vm, 2);
    long session = startSession(vm);
    assertNull(machine.balloonTarget(vm, session).requestedMode());

    DriverMode slow = DriverMode.checked(Kind.SLOW, 0, 100, 0);
    VmSnapshot v = machine.setDriverMode(vm, slow);
    assertEquals(slow, v.balloon().requestedMode());
    assertConsistent();
    assertEquals(new BalloonReply(2, false, slow), machine.balloonTarget(vm, session));
    assertEquals(slow, machine.balloonStats(vm, session).requestedMode());
    assertEquals(slow, lock(vm, session, 1).reply().requestedMode());
    assertEquals(slow, unlock(vm, session, 1).reply().requestedMode());
    assertEquals(slow, machine.balloonReplyOrNull(vm.id()).requestedMode());

    DriverMode stuck = DriverMode.checked(Kind.STUCK, 0, 0, 0.25);
    machine.setDriverMode(vm, stuck);
    assertEquals(stuck, machine.balloonTarget(vm, session).requestedMode());
    assertEquals(stuck, balloon(vm).requestedMode());
    // A new session keeps the request: the operator asked for it, not the driver.
    long next = startSession(vm);
    assertEquals(stuck, machine.balloonTarget(vm, next).requestedMode());
  }

  // ---------------------------------------------------------------- the change listener

  @Test
  void theListenerHearsOfTargetModeResetAndPowerOff() {
    newMachine(16, 32);
    Vm vm = machine.powerOn("vm", "linux", 8);
    Vm other = machine.powerOn("other", "linux", 8);
    assertEquals(List.of(), rings);

    setTarget(vm, 3);
    assertEquals(List.of(vm.id()), rings, "a new target rings");
    setTarget(vm, 3);
    assertEquals(List.of(vm.id()), rings, "the same target again does not");

    long session = startSession(vm);
    lock(vm, session, 0, 1);
    unlock(vm, session, 1);
    machine.balloonTarget(vm, session);
    machine.balloonStats(vm, session);
    assertEquals(List.of(vm.id()), rings, "the driver's own calls ring nothing");

    machine.setDriverMode(vm, DriverMode.checked(Kind.DISABLED, 0, 0, 0));
    assertEquals(List.of(vm.id(), vm.id()), rings, "a mode request rings");

    read(vm, 0);
    assertEquals(List.of(vm.id(), vm.id(), vm.id()), rings, "a reset rings");

    setTarget(other, 1);
    machine.powerOff(vm.id(), vm.credential());
    assertEquals(List.of(vm.id(), vm.id(), vm.id(), other.id(), vm.id()), rings, "power-off rings");

    rings.clear();
    machine.connectionLost(other);
    assertEquals(List.of(other.id()), rings, "a lost connection rings");
    Vm reaped = machine.powerOn("reaped", "linux", 4);
    rings.clear();
    assertEquals(1, machine.reapDetached(Long.MAX_VALUE / 2, 1));
    assertEquals(List.of(reaped.id()), rings, "reaping rings");
  }

  @Test
  void theListenerIsCalledUnderTheMachinesLockWithTheVmAlreadyChanged() {
    newMachine(8, 16);
    Vm vm = machine.powerOn("vm", "linux", 8);
    List<BalloonReply> seen = new ArrayList<>();
    machine.onBalloonChange(id -> {
      assertTrue(Thread.holdsLock(machine));
      seen.add(machine.balloonReplyOrNull(id));
    });
    machine.setBalloonTarget(vm, 5);
    DriverMode late = DriverMode.checked(Kind.LATE, 50, 0, 0);
    machine.setDriverMode(vm, late);
    machine.powerOff(vm.id(), vm.credential());
    assertEquals(Arrays.asList(new BalloonReply(5, false, null), new BalloonReply(5, false, late), null), seen);
  }

  /** The host swap slot of every PFN, -1 where the page is not swapped: which pages were paged out, in order. */
  private static String victims(Machine m, Vm vm) {
    StringBuilder sb = new StringBuilder();
    for (int pfn = 0; pfn < vm.memoryPages(); pfn++) {
      int e = vm.p2m.get(pfn);
      sb.append(P2m.isSwapped(e) ? P2m.swapSlot(e) : -1).append(' ');
    }
    return sb.toString();
  }

  private String pageOutsAfterStarts(int starts, String file) {
    try (Machine m = new Machine(new MachineConfig(4, 64, dir.resolve(file), 64, COSTS, 42,
        MachineConfig.DEFAULT_BALLOON_BATCH, MachineConfig.DEFAULT_BALLOON_STALL_NANOS,
        org.balloonlab.hypervisor.policy.ReclamationSettings.ESX, new Quotas(8, 64, 2048)))) {
      Vm vm = m.powerOn("vm", "linux", 32);
      for (int i = 0; i < starts; i++) {
        m.openBalloonSession(vm, true, true, true);
      }
      int[] pfns = range(0, 32);
      byte[] ops = new byte[32];
      Arrays.fill(ops, AccessOps.WRITE);
      m.applyBatch(vm, 32, ops, pfns, new long[32], new long[32], new BatchResult());
      return victims(m, vm);
    }
  }

  /** The seed is documented to make victim selection repeatable; driver sessions must not perturb it. */
  @Test
  void balloonSessionsDoNotPerturbVictimSelection() {
    assertEquals(pageOutsAfterStarts(0, "a.swap"), pageOutsAfterStarts(5, "b.swap"));
  }

  // ---------------------------------------------------------------- the oracle itself

  @Test
  void checkInvariantsNoticesABalloonTheCountsDoNotKnow() {
    newMachine(8, 16);
    Vm vm = machine.powerOn("vm", "linux", 8);
    vm.p2m.setBallooned(3);
    IllegalStateException e = assertThrows(IllegalStateException.class, machine::checkInvariants);
    assertMentions(e, "balloon");
    vm.p2m.clear(3);
    machine.checkInvariants();
  }
}
