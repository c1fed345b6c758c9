package org.balloonlab.hypervisor.machine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import org.balloonlab.hypervisor.mmu.TranslationMode;
import org.balloonlab.hypervisor.time.CostModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Content-based page sharing: the scanner, the table, copy-on-write, and sharing with ballooning and paging. */
class PageSharingTest {
  static final CostModel COSTS = new CostModel(1, 10, 1_000, 100, 7, 7, 20_000, 300_000, 0, 0, 0, 3_000);

  @TempDir
  Path dir;

  private Machine machine;

  private Machine newMachine(int frames, int slots, SharingSettings sharing) {
    machine = SharingMachines.machine(frames, slots, dir.resolve("host.swap"), COSTS, sharing);
    return machine;
  }

  @AfterEach
  void close() {
    if (machine != null) {
      machine.close();
    }
  }

  private long[] apply(Vm vm, MachineTest.Batch b) {
    machine.validateBatch(vm, b.count(), b.ops(), b.pfns(), b.writeCount());
    long[] reads = new long[b.count()];
    BatchResult result = new BatchResult();
    machine.applyBatch(vm, b.count(), b.ops(), b.pfns(), b.writes(), reads, result);
    machine.checkInvariants();
    return Arrays.copyOf(reads, result.reads());
  }

  private void write(Vm vm, int from, int to, java.util.function.IntToLongFunction token) {
    MachineTest.Batch b = MachineTest.batch();
    for (int pfn = from; pfn < to; pfn++) {
      b.write(pfn, token.applyAsLong(pfn));
    }
    apply(vm, b);
  }

  private long[] read(Vm vm, int from, int to) {
    MachineTest.Batch b = MachineTest.batch();
    for (int pfn = from; pfn < to; pfn++) {
      b.read(pfn);
    }
    return apply(vm, b);
  }

  private void scanAll(Vm vm) {
    for (int pfn = 0; pfn < vm.memoryPages(); pfn++) {
      machine.sharing().scanPage(vm, pfn);
    }
    machine.checkInvariants();
  }

  private static long image(int pfn) {
    return 0x1000_0000_0000L + pfn;
  }

  @Test
  void sharingIsInTheMetrics() throws java.io.IOException {
    newMachine(256, 256, SharingSettings.ON);
    Vm a = machine.powerOn("a", "linux", 64);
    Vm b = machine.powerOn("b", "linux", 64);
    write(a, 0, 8, PageSharingTest::image);
    write(b, 0, 8, PageSharingTest::image);
    scanAll(a);
    scanAll(b);
    var out = new java.io.ByteArrayOutputStream();
    io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter.create().write(out,
        new org.balloonlab.hypervisor.metrics.HypervisorMetrics(machine::snapshot, () -> 0).collect());
    String text = out.toString(java.nio.charset.StandardCharsets.UTF_8);
    assertTrue(text.contains("balloonlab_sharing_saved_bytes " + (8.0 * 4096)), text);
    assertTrue(text.contains("balloonlab_vm_shared_bytes{vm=\"b\"} " + (8.0 * 4096)), text);
    assertTrue(text.contains("balloonlab_vm_sharing_saved_bytes{vm=\"a\"} " + (4.0 * 4096)), text);
  }

  @Test
  void equalPagesOfTwoVmsShareOneFrameEach() {
    newMachine(256, 256, SharingSettings.ON);
    Vm a = machine.powerOn("a", "linux", 64);
    Vm b = machine.powerOn("b", "linux", 64);
    write(a, 0, 32, PageSharingTest::image);
    write(b, 0, 32, PageSharingTest::image);
    long freeBefore = machine.snapshot().freeFrames();
    scanAll(a);
    assertEquals(32, machine.snapshot().sharing().hints(), "the first VM's pages are hints");
    scanAll(b);
    SharingSnapshot s = machine.snapshot().sharing();
    assertEquals(32, s.sharedFrames());
    assertEquals(64, s.sharedReferences());
    assertEquals(32, s.savedFrames());
    assertEquals(0, s.hints(), "every hint became a shared frame");
    assertEquals(freeBefore + 32, machine.snapshot().freeFrames());
    assertEquals(32, machine.vm(a.id()).sharing().sharedPages());
    assertEquals(16, machine.vm(b.id()).sharing().savedPages(), "each VM is charged half of each shared frame");
    for (int pfn = 0; pfn < 32; pfn++) {
      assertEquals(a.p2m.get(pfn), b.p2m.get(pfn));
      assertEquals(2, machine.sharing().referenceCount(a.p2m.get(pfn)));
    }
    assertArrayEquals(read(a, 0, 32), read(b, 0, 32));
    assertTrue(s.tableBytes() <= 256 * 4096 * 0.005, "table bytes " + s.tableBytes());
  }

  @Test
  void writeBreaksCopyOnWriteAndTheOtherVmKeepsTheOldToken() {
    newMachine(256, 256, SharingSettings.ON);
    Vm a = machine.powerOn("a", "linux", 16);
    Vm b = machine.powerOn("b", "linux", 16);
    Vm c = machine.powerOn("c", "linux", 16);
    for (Vm vm : new Vm[] {a, b, c}) {
      write(vm, 0, 4, PageSharingTest::image);
      scanAll(vm);
    }
    int shared = a.p2m.get(1);
    assertEquals(3, machine.sharing().referenceCount(shared));
    BatchResult result = new BatchResult();
    MachineTest.Batch w = MachineTest.batch().write(1, 0xBEEFL);
    long[] none = new long[1];
    machine.applyBatch(a, w.count(), w.ops(), w.pfns(), w.writes(), none, result);
    machine.checkInvariants();
    assertEquals(1, result.hiddenFaults());
    assertEquals(COSTS.hiddenFaultNs() + COSTS.copyFrameNs(), result.hypervisorNs(), "a hidden fault and a copy");
    assertNotEquals(shared, a.p2m.get(1), "the writer got a frame of its own");
    assertEquals(0xBEEFL, read(a, 1, 2)[0]);
    assertEquals(image(1), read(b, 1, 2)[0], "the other VMs still read the old content");
    assertEquals(image(1), read(c, 1, 2)[0]);
    assertEquals(2, machine.sharing().referenceCount(shared));
    assertEquals(1, machine.vm(a.id()).sharing().cowBreaks());
    // The last two references: b breaks with a copy, c takes the frame back without one.
    machine.applyBatch(b, w.count(), w.ops(), w.pfns(), new long[] {0xB0BL}, none, result);
    machine.applyBatch(c, w.count(), w.ops(), w.pfns(), new long[] {0xC0CL}, none, result);
    machine.checkInvariants();
    assertEquals(shared, c.p2m.get(1), "the last reference keeps the frame as its own");
    assertEquals(MachineMemory.SHARED, -1);
    assertEquals(3, machine.snapshot().sharing().cowBreaks());
    assertEquals(0xB0BL, read(b, 1, 2)[0]);
    assertEquals(0xC0CL, read(c, 1, 2)[0]);
  }

  @Test
  void zeroPagesOfEveryVmShareOneFrame() {
    newMachine(256, 256, SharingSettings.ON);
    Vm a = machine.powerOn("a", "linux", 32);
    Vm b = machine.powerOn("b", "linux", 32, TranslationMode.SHADOW);
    read(a, 0, 32);
    read(b, 0, 32);
    scanAll(a);
    scanAll(b);
    SharingSnapshot s = machine.snapshot().sharing();
    assertEquals(1, s.sharedFrames());
    assertEquals(64, s.zeroReferences());
    assertEquals(63, s.savedFrames());
    // A write to a zero page under shadow paging: the shadow entry follows the new frame.
    write(b, 5, 6, pfn -> 77L);
    assertEquals(77L, read(b, 5, 6)[0]);
    assertEquals(0L, read(a, 5, 6)[0]);
    assertEquals(0L, read(b, 6, 7)[0]);
  }

  @Test
  void hintIsCheckedAgainWhenMatched() {
    newMachine(256, 256, SharingSettings.ON);
    Vm a = machine.powerOn("a", "linux", 8);
    Vm b = machine.powerOn("b", "linux", 8);
    write(a, 0, 1, pfn -> 5L);
    machine.sharing().scanPage(a, 0);
    assertEquals(1, machine.snapshot().sharing().hints());
    write(a, 0, 1, pfn -> 6L);
    write(b, 0, 1, pfn -> 5L);
    assertFalse(machine.sharing().scanPage(b, 0), "the hinted page changed: nothing to share");
    machine.checkInvariants();
    SharingSnapshot s = machine.snapshot().sharing();
    assertEquals(0, s.sharedFrames());
    assertEquals(1, s.hints(), "the stale hint went, b's page is the hint now");
    assertEquals(6L, read(a, 0, 1)[0]);
  }

  @Test
  void hashCollisionWithOtherContentIsNotShared() {
    newMachine(256, 256, SharingSettings.ON);
    machine.sharing().hashForTests(token -> token & 0xF);
    Vm a = machine.powerOn("a", "linux", 8);
    Vm b = machine.powerOn("b", "linux", 8);
    write(a, 0, 1, pfn -> 0x11L);
    write(b, 0, 1, pfn -> 0x21L);
    machine.sharing().scanPage(a, 0);
    assertFalse(machine.sharing().scanPage(b, 0));
    machine.checkInvariants();
    SharingSnapshot s = machine.snapshot().sharing();
    assertEquals(0, s.sharedFrames());
    assertEquals(1, s.collisions());
    assertEquals(0x11L, read(a, 0, 1)[0]);
    assertEquals(0x21L, read(b, 0, 1)[0]);
  }

  @Test
  void powerOffDropsEachReferenceAndFreesTheLast() {
    newMachine(256, 256, SharingSettings.ON);
    Vm a = machine.powerOn("a", "linux", 16);
    Vm b = machine.powerOn("b", "linux", 16);
    write(a, 0, 16, PageSharingTest::image);
    write(b, 0, 16, PageSharingTest::image);
    scanAll(a);
    scanAll(b);
    long free = machine.snapshot().freeFrames();
    machine.powerOff(a.id(), a.credential());
    machine.checkInvariants();
    assertEquals(free, machine.snapshot().freeFrames(), "b still maps every shared frame: none is freed");
    assertEquals(16, machine.snapshot().sharing().sharedFrames());
    assertEquals(0, machine.snapshot().sharing().savedFrames());
    machine.powerOff(b.id(), b.credential());
    machine.checkInvariants();
    assertEquals(256, machine.snapshot().freeFrames());
    assertEquals(0, machine.snapshot().sharing().sharedFrames());
    assertEquals(0, machine.sharing().table().size(), "no hint or shared entry is left");
  }

  @Test
  void powerOffDropsTheVmsHints() {
    newMachine(256, 256, SharingSettings.ON);
    Vm a = machine.powerOn("a", "linux", 16);
    write(a, 0, 16, PageSharingTest::image);
    scanAll(a);
    assertEquals(16, machine.snapshot().sharing().hints());
    machine.powerOff(a.id(), a.credential());
    assertEquals(0, machine.sharing().table().size());
  }

  @Test
  void balloonLockOfASharedPageFreesNoFrameUntilTheLastReference() {
    newMachine(256, 256, SharingSettings.ON);
    Vm a = machine.powerOn("a", "linux", 16);
    Vm b = machine.powerOn("b", "linux", 16);
    write(a, 0, 4, PageSharingTest::image);
    write(b, 0, 4, PageSharingTest::image);
    scanAll(a);
    scanAll(b);
    long free = machine.snapshot().freeFrames();
    lock(a, 0);
    assertEquals(free, machine.snapshot().freeFrames(), "b still maps the frame");
    assertEquals(3, machine.vm(a.id()).sharing().sharedPages());
    lock(b, 0);
    assertEquals(free + 1, machine.snapshot().freeFrames(), "the last reference freed it");
    assertEquals(image(1), read(b, 1, 2)[0]);
  }

  private void lock(Vm vm, int pfn) {
    machine.setBalloonTarget(vm, machine.vm(vm.id()).balloon().targetPages() + 1);
    long session = machine.openBalloonSession(vm, true, true, true).id();
    BalloonPageStatus[] st = new BalloonPageStatus[1];
    machine.balloonMove(vm, session, 0, true, new int[] {pfn}, 1, st);
    assertEquals(BalloonPageStatus.OK, st[0]);
    machine.checkInvariants();
  }

  @Test
  void referenceCountsBeyondTheFieldGoToTheOverflowTable() {
    SharingTable t = new SharingTable(16, 3, 64);
    int s = t.putShared(99L, 7, 1);
    for (long c = 2; c <= 10; c++) {
      t.setCount(s, c);
      assertEquals(c, t.count(s));
    }
    assertEquals(1, t.overflowEntries());
    t.setCount(s, 2);
    assertEquals(2, t.count(s));
    assertEquals(0, t.overflowEntries());
    assertEquals(7, t.sharedMfn(t.findShared(99L, 7)));
  }

  @Test
  void tableRemovalKeepsEveryProbeSequence() {
    SharingTable t = new SharingTable(16, 0xFFFF, 64);
    // Five entries with the same home slot and two with the next one, then removals from the middle.
    for (int i = 0; i < 5; i++) {
      t.putShared(16L * i, i, 1);
    }
    t.putHint(1L, 3, 9);
    t.putHint(17L, 4, 9);
    t.remove(t.findShared(16L, 1));
    assertEquals(-1, t.findShared(16L, 1));
    assertEquals(-1, t.sharedSlot(1));
    for (int i : new int[] {0, 2, 3, 4}) {
      assertTrue(t.findShared(16L * i, i) >= 0, "entry " + i);
      assertEquals(t.findShared(16L * i, i), t.sharedSlot(i), "entry " + i + " moved back, its index follows");
    }
    assertEquals(1, t.removeHintsOf(3));
    assertEquals(1, t.hintEntries());
    assertEquals(5, t.size());
    assertThrows(IllegalArgumentException.class, () -> new SharingTable(12, 3, 64));
  }

  @Test
  void aFullTableEvictsAHintForANewEntry() {
    SharingTable t = new SharingTable(8, 0xFFFF, 64);
    for (int i = 0; i < 6; i++) {
      assertTrue(t.putHint(i, 5, i) >= 0);
    }
    assertTrue(t.full());
    int s = t.putShared(2L, 9, 2);
    assertEquals(5, t.takeEvictedVm(), "a hint made room");
    assertEquals(0, t.takeEvictedVm());
    assertEquals(s, t.findShared(2L, 9));
    assertEquals(5, t.hintEntries());
    assertEquals(6, t.size());
  }

  @Test
  void aFullTableWithNoHintOnTheProbeSequenceDropsAHintElsewhere() {
    SharingTable t = new SharingTable(8, 0xFFFF, 64);
    for (int i = 0; i < 3; i++) {
      assertTrue(t.putShared(8L * i, i, 2) >= 0); // home slot 0: slots 0, 1, 2
    }
    for (int i = 4; i < 7; i++) {
      assertTrue(t.putHint(i, i, 1) >= 0); // homes 4, 5, 6
    }
    assertTrue(t.full());
    // Home 0 again: its probe sequence is three shared entries and an empty slot, no hint to take.
    int s = t.putShared(24L, 9, 2);
    assertEquals(3, s, "it goes where a probe from its home finds it");
    assertEquals(4, t.takeEvictedVm(), "the hint after the clock hand made room");
    assertEquals(s, t.findShared(24L, 9));
    assertEquals(s, t.sharedSlot(9));
    assertEquals(2, t.hintEntries());
    assertEquals(6, t.size());
    for (int i = 0; i < 3; i++) {
      assertEquals(t.findShared(8L * i, i), t.sharedSlot(i), "entry " + i);
    }
    // The next such entry drops the next hint; with no hint left at all, an entry is refused.
    assertTrue(t.putShared(32L, 10, 2) >= 0);
    assertEquals(5, t.takeEvictedVm());
    assertTrue(t.putShared(40L, 11, 2) >= 0);
    assertEquals(6, t.takeEvictedVm());
    assertEquals(0, t.hintEntries());
    assertEquals(-1, t.putHint(48L, 3, 1), "a table of shared entries only refuses");
    assertEquals(0, t.takeEvictedVm());
  }

  @Test
  void tableStaysUnderHalfAPercentOfMachineMemory() {
    for (int frames : new int[] {1, 100, 4096, 262_144, 1 << 22}) {
      long bytes = new SharingTable(frames).bytes();
      assertTrue(frames < 16 || bytes <= frames * 4096L / 200, frames + " frames: " + bytes + " bytes");
    }
  }

  @Test
  void sharingBeforePagingReducesHostPageOuts() {
    assertTrue(pageOutsWhileFilling(SharingSettings.ON) < pageOutsWhileFilling(SharingSettings.ON.withEnabled(false)));
  }

  /** Two VMs of one image on a machine too small for both: the second's image pages match the first's. */
  private long pageOutsWhileFilling(SharingSettings sharing) {
    newMachine(96, 256, sharing);
    Vm a = machine.powerOn("a", "linux", 64);
    Vm b = machine.powerOn("b", "linux", 64);
    write(a, 0, 64, PageSharingTest::image);
    scanAll(a);
    write(b, 0, 64, PageSharingTest::image);
    long outs = machine.snapshot().hostPageOuts();
    assertArrayEquals(read(a, 0, 64), read(b, 0, 64));
    for (int pfn = 0; pfn < 64; pfn++) {
      assertEquals(image(pfn), read(b, pfn, pfn + 1)[0]);
    }
    if (sharing.enabled()) {
      assertTrue(machine.snapshot().sharing().sharedBeforePageOut() > 0);
    }
    machine.close();
    machine = null;
    return outs;
  }

  @Test
  void scannerIsBoundedBySimulatedTimeAndReproducible() {
    SharingSettings rates = new SharingSettings(true, 100, 150, true);
    long[] first = scanRun(rates);
    assertArrayEquals(first, scanRun(rates), "a seeded run scans the same pages");
  }

  private long[] scanRun(SharingSettings rates) {
    newMachine(512, 512, rates);
    Vm a = machine.powerOn("a", "linux", 128);
    Vm b = machine.powerOn("b", "linux", 128);
    write(a, 0, 128, pfn -> image(pfn % 16));
    write(b, 0, 128, pfn -> image(pfn % 16));
    assertEquals(0, machine.scanForSharing(0));
    assertEquals(7, machine.scanForSharing(50_000_000), "5 pages a VM over 50 ms, but 7.5 machine-wide");
    assertEquals(150, machine.scanForSharing(10_000_000_000L), "the machine-wide rate caps a tick");
    machine.checkInvariants();
    long[] p2m = new long[256];
    for (int pfn = 0; pfn < 128; pfn++) {
      p2m[pfn] = a.p2m.get(pfn);
      p2m[128 + pfn] = b.p2m.get(pfn);
    }
    assertTrue(machine.snapshot().sharing().savedFrames() > 0);
    machine.close();
    machine = null;
    return p2m;
  }

  @Test
  void sharingOffScansNothing() {
    newMachine(64, 64, SharingSettings.OFF);
    Vm a = machine.powerOn("a", "linux", 16);
    read(a, 0, 16);
    assertEquals(0, machine.scanForSharing(1_000_000_000L));
    assertFalse(machine.snapshot().sharing().enabled());
    assertThrows(IllegalArgumentException.class, () -> new SharingSettings(true, 0, 1, true));
  }
}
