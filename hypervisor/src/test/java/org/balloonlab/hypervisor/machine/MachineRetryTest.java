package org.balloonlab.hypervisor.machine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.stream.IntStream;
import org.balloonlab.hypervisor.mmu.TranslationMode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Retries land once: a balloon Lock or Unlock repeated with the request id of the last one applied is answered
 * as it was and changes nothing (its frames are counted once), an older id is refused, and a PowerOn repeated
 * with its request id and spec answers the VM it powered on. The frame table is checked after every step.
 */
class MachineRetryTest {
  static final int BATCH = 8;

  @TempDir
  Path dir;

  private Machine machine;
  private Vm vm;
  private long session;

  @BeforeEach
  void setUp() {
    machine = new Machine(new MachineConfig(64, 64, dir.resolve("host.swap"), 64, MachineBalloonTest.COSTS, 42,
        BATCH, Long.MAX_VALUE));
    vm = machine.powerOn("vm1", "linux", 32);
    session = machine.openBalloonSession(vm, true, true, true).id();
  }

  @AfterEach
  void tearDown() {
    machine.close();
  }

  private BalloonPageStatus[] move(long requestId, boolean lock, int... pfns) {
    BalloonPageStatus[] statuses = new BalloonPageStatus[pfns.length];
    machine.balloonMove(vm, session, requestId, lock, pfns, pfns.length, statuses);
    machine.checkInvariants();
    return statuses;
  }

  /** Everything a retry must leave as it was. */
  private List<Object> state() {
    VmSnapshot v = machine.vm(vm.id());
    BalloonSnapshot b = v.balloon();
    int[] p2m = new int[vm.memoryPages()];
    for (int pfn = 0; pfn < p2m.length; pfn++) {
      p2m[pfn] = vm.p2m.get(pfn);
    }
    return List.of(Arrays.toString(p2m), v.mappedPages(), b.sizePages(), b.lockedTotal(), b.unlockedTotal(),
        b.refusedPages(), machine.snapshot().freeFrames());
  }

  private void touch(int... pfns) {
    byte[] ops = new byte[pfns.length];
    Arrays.fill(ops, AccessOps.WRITE);
    long[] values = new long[pfns.length];
    for (int i = 0; i < pfns.length; i++) {
      values[i] = MachineBalloonTest.token(vm.id(), pfns[i]);
    }
    machine.validateBatch(vm, pfns.length, ops, pfns, pfns.length);
    machine.applyBatch(vm, pfns.length, ops, pfns, values, new long[pfns.length], new BatchResult());
  }

  @Test
  void aRepeatedLockIsAnsweredAsBeforeAndTakesNoFrameTwice() {
    touch(IntStream.range(0, 8).toArray());
    machine.setBalloonTarget(vm, 6);
    long freeBefore = machine.snapshot().freeFrames();

    BalloonPageStatus[] first = move(1, true, 0, 1, 2, 3, 4, 5, 6, 7);
    List<Object> after = state();
    BalloonPageStatus[] again = move(1, true, 0, 1, 2, 3, 4, 5, 6, 7);

    assertArrayEquals(first, again, "the retry gets the first call's statuses, refusals included");
    assertEquals(6, Arrays.stream(first).filter(s -> s == BalloonPageStatus.OK).count());
    assertEquals(after, state(), "the retry changed nothing");
    assertEquals(freeBefore + 6, machine.snapshot().freeFrames(), "six frames came back, once");
    assertEquals(6, machine.vm(vm.id()).balloon().lockedTotal());
  }

  @Test
  void aRetryGetsTheVeryAnswerOfItsFirstCallEvenIfTheTargetMovedSince() {
    machine.setBalloonTarget(vm, 4);
    BalloonReply first = machine.balloonMove(vm, session, 1, true, new int[] {0, 1}, 2, new BalloonPageStatus[2]);
    machine.setBalloonTarget(vm, 9);

    BalloonReply again = machine.balloonRepeat(vm, session, 1, true, new int[] {0, 1}, 2, new BalloonPageStatus[2]);

    assertSame(first, again, "the answer does not depend on when the retry came");
    assertEquals(4, again.targetPages());
  }

  @Test
  void aRepeatedUnlockIsAnsweredAsBefore() {
    machine.setBalloonTarget(vm, 8);
    move(1, true, 0, 1, 2, 3);
    BalloonPageStatus[] first = move(2, false, 0, 1);
    List<Object> after = state();

    BalloonPageStatus[] again = move(2, false, 0, 1);

    assertArrayEquals(new BalloonPageStatus[] {BalloonPageStatus.OK, BalloonPageStatus.OK}, again);
    assertArrayEquals(first, again);
    assertEquals(after, state());
    assertEquals(2, machine.vm(vm.id()).balloon().unlockedTotal());
  }

  @Test
  void anOlderIdIsRefusedAndChangesNothing() {
    machine.setBalloonTarget(vm, 8);
    move(1, true, 0, 1);
    move(2, true, 2, 3);
    List<Object> before = state();

    MachineException e = assertThrows(MachineException.class, () -> move(1, false, 0, 1));

    assertEquals(MachineException.Reason.FAILED_PRECONDITION, e.reason());
    assertTrue(e.getMessage().contains("overtaken"), e.getMessage());
    assertEquals(before, state());
  }

  @Test
  void theSameIdWithOtherPagesOrTheOtherDirectionIsRefused() {
    machine.setBalloonTarget(vm, 8);
    move(1, true, 0, 1);
    List<Object> before = state();

    assertEquals(MachineException.Reason.INVALID_ARGUMENT,
        assertThrows(MachineException.class, () -> move(1, true, 0, 2)).reason());
    assertEquals(MachineException.Reason.INVALID_ARGUMENT,
        assertThrows(MachineException.class, () -> move(1, false, 0, 1)).reason());
    assertEquals(MachineException.Reason.INVALID_ARGUMENT,
        assertThrows(MachineException.class, () -> move(-5, true, 4)).reason());
    assertEquals(before, state());
  }

  @Test
  void aRepeatOfAnIdNotAppliedYetIsANewRequest() {
    machine.setBalloonTarget(vm, 8);
    assertNull(machine.balloonRepeat(vm, session, 1, true, new int[] {0}, 1, new BalloonPageStatus[1]));
    assertEquals(0, machine.vm(vm.id()).balloon().sizePages());
  }

  @Test
  void idZeroIsAppliedEveryTimeAndNotRemembered() {
    machine.setBalloonTarget(vm, 8);
    move(3, true, 0, 1);

    assertArrayEquals(new BalloonPageStatus[] {BalloonPageStatus.OK}, move(0, false, 0));
    assertArrayEquals(new BalloonPageStatus[] {BalloonPageStatus.NOT_LOCKED}, move(0, false, 0));
    // The last id applied is still 3: its retry is answered as it was.
    assertArrayEquals(new BalloonPageStatus[] {BalloonPageStatus.OK, BalloonPageStatus.OK}, move(3, true, 0, 1));
    assertEquals(1, machine.vm(vm.id()).balloon().sizePages());
  }

  @Test
  void aNewSessionForgetsTheIds() {
    machine.setBalloonTarget(vm, 8);
    move(5, true, 0, 1);
    session = machine.openBalloonSession(vm, true, true, true).id();

    assertArrayEquals(new BalloonPageStatus[] {BalloonPageStatus.OK}, move(1, true, 2));
    assertEquals(3, machine.vm(vm.id()).balloon().sizePages());
  }

  @Test
  void aRepeatedPowerOnAnswersTheSameVm() {
    String id = UUID.randomUUID().toString();
    Vm first = machine.powerOn("vm2", "linux", 16, 4, 0, TranslationMode.SHADOW, id);

    Vm again = machine.powerOn("vm2", "linux", 16, 4, 0, TranslationMode.SHADOW, id);

    assertSame(first, again);
    assertEquals(first.credential(), again.credential());
    assertEquals(2, machine.snapshot().vms().size());
    machine.checkInvariants();
  }

  @Test
  void aPowerOnRequestIdWithAnotherSpecIsRefused() {
    String id = UUID.randomUUID().toString();
    machine.powerOn("vm2", "linux", 16, 0, 0, TranslationMode.NESTED, id);

    MachineException e = assertThrows(MachineException.class,
        () -> machine.powerOn("vm2", "linux", 17, 0, 0, TranslationMode.NESTED, id));
    assertEquals(MachineException.Reason.ALREADY_EXISTS, e.reason());
    assertTrue(e.getMessage().contains("another spec"), e.getMessage());
    assertEquals(MachineException.Reason.ALREADY_EXISTS, assertThrows(MachineException.class,
        () -> machine.powerOn("vm3", "linux", 16, 0, 0, TranslationMode.NESTED, id)).reason());
    // Without the id, the name in use is refused as before.
    assertEquals(MachineException.Reason.ALREADY_EXISTS, assertThrows(MachineException.class,
        () -> machine.powerOn("vm2", "linux", 16, 0, 0, TranslationMode.NESTED, "")).reason());
    assertEquals(2, machine.snapshot().vms().size());
  }

  @Test
  void aMalformedPowerOnRequestIdIsRefusedWithoutEchoingIt() {
    String huge = "x".repeat(100_000);
    MachineException e = assertThrows(MachineException.class,
        () -> machine.powerOn("vm2", "linux", 16, 0, 0, TranslationMode.NESTED, huge));
    assertEquals(MachineException.Reason.INVALID_ARGUMENT, e.reason());
    assertTrue(e.getMessage().length() < 300, e.getMessage());
    assertEquals(MachineException.Reason.INVALID_ARGUMENT, assertThrows(MachineException.class,
        () -> machine.powerOn("vm2", "linux", 16, 0, 0, TranslationMode.NESTED, "a b")).reason());
  }

  @Test
  void aPowerOnRequestIdIsForgottenWhenItsVmGoes() {
    String id = UUID.randomUUID().toString();
    Vm first = machine.powerOn("vm2", "linux", 16, 0, 0, TranslationMode.NESTED, id);
    machine.powerOff(first.id(), first.credential());

    Vm second = machine.powerOn("vm2", "linux", 16, 0, 0, TranslationMode.NESTED, id);

    assertNotEquals(first.id(), second.id(), "a new VM: the first one is gone");
    machine.checkInvariants();
  }
}
