package org.balloonlab.hypervisor.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.balloonlab.hypervisor.event.EventKind;
import org.balloonlab.hypervisor.event.MachineEvent;
import org.balloonlab.hypervisor.time.CostModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Page sharing on the machine's event log, at a bounded rate in the scanner's simulated time. */
class SharingEventsTest {
  private static final long S = 1_000_000_000L;
  /** Every page of every VM scanned in a simulated second, and more. */
  private static final SharingSettings FAST = new SharingSettings(true, SharingSettings.MAX_RATE,
      SharingSettings.MAX_RATE, true);

  @TempDir
  Path dir;

  private Machine machine;

  private Machine newMachine(int frames) {
    machine = SharingMachines.machine(frames, frames, dir.resolve("host.swap"), CostModel.DEFAULT, FAST);
    return machine;
  }

  @AfterEach
  void close() {
    if (machine != null) {
      machine.close();
    }
  }

  private void write(Vm vm, int from, int to, java.util.function.IntToLongFunction token) {
    MachineTest.Batch b = MachineTest.batch();
    for (int pfn = from; pfn < to; pfn++) {
      b.write(pfn, token.applyAsLong(pfn));
    }
    machine.validateBatch(vm, b.count(), b.ops(), b.pfns(), b.writeCount());
    machine.applyBatch(vm, b.count(), b.ops(), b.pfns(), b.writes(), new long[b.count()], new BatchResult());
    machine.checkInvariants();
  }

  private List<MachineEvent> events(EventKind kind) {
    return machine.events().after(0, 4096).events().stream().filter(e -> e.kind() == kind).toList();
  }

  @Test
  void theTableAtItsCapIsToldOnceAndItsRoomAgainOnceASecondLater() {
    newMachine(256);
    SharingTable table = machine.sharing().table();
    assertEquals(256, table.capacity(), "a 1 MiB machine's table");
    Vm a = machine.powerOn("a", "linux", 240);
    write(a, 0, 240, pfn -> 0x7000_0000L + pfn);
    machine.scanForSharing(S / 2);
    assertTrue(table.full(), "240 unique pages fill a table capped at 192 entries");
    assertEquals(1, events(EventKind.SHARING_TABLE_FULL).size());
    assertTrue(events(EventKind.SHARING_TABLE_FULL).get(0).message().contains("192 of 256 slots"),
        events(EventKind.SHARING_TABLE_FULL).get(0).message());
    for (int i = 0; i < 5; i++) {
      machine.scanForSharing(S / 2);
    }
    assertTrue(machine.snapshot().sharing().hintsEvicted() > 0, "new hints took older hints' slots");
    assertEquals(1, events(EventKind.SHARING_TABLE_FULL).size(), "once per episode, however many evictions");
    assertEquals(0, events(EventKind.SHARING_TABLE_RECOVERED).size());

    machine.powerOffByOperator(a);
    assertEquals(0, table.size(), "power-off took its hints");
    machine.scanForSharing(S / 2);
    assertEquals(1, events(EventKind.SHARING_TABLE_RECOVERED).size(), "3 s after it filled, with room");
    MachineEvent room = events(EventKind.SHARING_TABLE_RECOVERED).get(0);
    assertEquals(0, room.vmId());
    assertTrue(room.message().contains("0 of 256 slots") && room.message().contains("3.0 simulated s"),
        room.message());
    machine.scanForSharing(S);
    assertEquals(1, events(EventKind.SHARING_TABLE_RECOVERED).size(), "told once");
  }

  @Test
  void theTableMustStayAtItsCapASimulatedSecondBeforeItsRoomIsTold() {
    newMachine(256);
    Vm a = machine.powerOn("a", "linux", 240);
    write(a, 0, 240, pfn -> 0x7000_0000L + pfn);
    machine.scanForSharing(S / 10);
    assertEquals(1, events(EventKind.SHARING_TABLE_FULL).size());
    machine.powerOffByOperator(a);
    machine.scanForSharing(S / 2);
    assertEquals(0, events(EventKind.SHARING_TABLE_RECOVERED).size(), "0.5 s after it filled: not yet");
    Vm b = machine.powerOn("b", "linux", 240);
    write(b, 0, 240, pfn -> 0x8000_0000L + pfn);
    machine.scanForSharing(S);
    assertEquals(1, events(EventKind.SHARING_TABLE_FULL).size(), "full again within the episode: nothing new");
    assertEquals(0, events(EventKind.SHARING_TABLE_RECOVERED).size(), "and no flapping");
  }

  @Test
  void progressIsToldPerVmAtMostOnceASimulatedSecond() {
    newMachine(512);
    Vm a = machine.powerOn("a", "linux", 64);
    Vm b = machine.powerOn("b", "linux", 64);
    write(a, 0, 32, pfn -> 0x1000_0000L + pfn);
    write(b, 0, 32, pfn -> 0x1000_0000L + pfn);
    machine.scanForSharing(S / 100);
    List<MachineEvent> progress = events(EventKind.SHARING_PROGRESS);
    assertEquals(2, progress.size(), progress.toString());
    assertEquals("a", progress.get(0).vmName());
    assertTrue(progress.get(0).message().startsWith("32 pages on shared frames (+32), 16 saved"),
        progress.get(0).message());
    assertEquals("b", progress.get(1).vmName());

    // 20 copy-on-write breaks: worth an event (16 pages or more), but not within a simulated second of the last.
    write(a, 0, 20, pfn -> 0x2000_0000L + pfn);
    machine.scanForSharing(S / 2);
    assertEquals(2, events(EventKind.SHARING_PROGRESS).size(), "0.51 s after a's last");
    machine.scanForSharing(S / 2);
    progress = events(EventKind.SHARING_PROGRESS);
    assertEquals(3, progress.size(), progress.toString());
    assertEquals("a", progress.get(2).vmName());
    assertTrue(progress.get(2).message().contains("20 copy-on-write breaks (+20)")
        && progress.get(2).message().contains("12 pages on shared frames (-20)"), progress.get(2).message());
    for (int i = 0; i < 10; i++) {
      machine.scanForSharing(S);
    }
    assertEquals(3, events(EventKind.SHARING_PROGRESS).size(), "nothing moved since: nothing told");
  }

  @Test
  void powerOffOfAVmWithSharedPagesSaysWhatItReleased() {
    newMachine(512);
    Vm a = machine.powerOn("a", "linux", 64);
    Vm b = machine.powerOn("b", "linux", 64);
    Vm c = machine.powerOn("c", "linux", 64);
    write(a, 0, 32, pfn -> 0x1000_0000L + pfn);
    write(b, 0, 32, pfn -> 0x1000_0000L + pfn);
    write(c, 0, 8, pfn -> 0x3000_0000L + pfn);
    machine.scanForSharing(S / 100);
    write(a, 0, 12, pfn -> 0x2000_0000L + pfn);
    machine.powerOffByOperator(b);
    List<MachineEvent> released = events(EventKind.SHARED_FRAMES_RELEASED);
    assertEquals(1, released.size());
    assertEquals("b", released.get(0).vmName());
    assertTrue(released.get(0).message().startsWith("going off, it dropped 32 references to shared frames and freed "
        + "12 frames with their last reference; the machine now shares 20 frames for 20 pages, saving 0 frames"),
        released.get(0).message());
    machine.powerOffByOperator(c);
    assertEquals(1, events(EventKind.SHARED_FRAMES_RELEASED).size(), "c shared nothing: nothing to tell");
    List<MachineEvent> all = machine.events().after(0, 4096).events();
    assertEquals(EventKind.VM_POWERED_OFF, all.get(all.indexOf(released.get(0)) - 1).kind(),
        "told right after the power-off");
  }

  @Test
  void theSameSeedTellsTheSameEvents() {
    List<String> first = eventsOfARun();
    assertEquals(first, eventsOfARun());
    assertTrue(first.size() >= 4, first.toString());
  }

  private List<String> eventsOfARun() {
    newMachine(256);
    Vm a = machine.powerOn("a", "linux", 120);
    Vm b = machine.powerOn("b", "linux", 120);
    write(a, 0, 120, pfn -> 0x1000_0000L + pfn % 40);
    write(b, 0, 120, pfn -> 0x4000_0000L + pfn);
    long[] ticks = {S / 1000, S / 3, 7 * S / 10, S / 2, S, S / 7};
    for (long t : ticks) {
      machine.scanForSharing(t);
      write(a, 0, 10, pfn -> 0x5000_0000L + pfn + t);
    }
    machine.powerOffByOperator(a);
    machine.scanForSharing(2 * S);
    List<String> out = machine.events().after(0, 4096).events().stream()
        .map(e -> e.kind() + " " + e.vmName() + " " + e.message()).toList();
    machine.close();
    machine = null;
    return out;
  }
}
