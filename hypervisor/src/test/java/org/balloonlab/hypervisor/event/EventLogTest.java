package org.balloonlab.hypervisor.event;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class EventLogTest {
  private final EventLog log = new EventLog(4, () -> 1234L);

  private void publish(int n) {
    for (int i = 0; i < n; i++) {
      log.publish(EventKind.VM_POWERED_ON, i + 1, "vm" + (i + 1), "event " + (i + 1));
    }
  }

  @Test
  void watchersGetWhatCameAfterTheirCursorInOrder() {
    publish(3);
    EventLog.Slice all = log.after(0, 10);
    assertEquals(List.of(1L, 2L, 3L), all.events().stream().map(MachineEvent::sequence).toList());
    assertEquals(0, all.missed());
    assertEquals(3, all.lastSequence());
    assertEquals(new MachineEvent(2, 1234L, EventKind.VM_POWERED_ON, 2, "vm2", "event 2", 0), all.events().get(1));
    assertEquals(List.of(3L), log.after(2, 10).events().stream().map(MachineEvent::sequence).toList());
    assertEquals(List.of(), log.after(3, 10).events());
    assertEquals(List.of(1L, 2L), log.after(0, 2).events().stream().map(MachineEvent::sequence).toList());
  }

  @Test
  void theRingKeepsTheNewestAndSaysWhatAWatcherMissed() {
    publish(10);
    EventLog.Slice slice = log.after(3, 10);
    assertEquals(List.of(7L, 8L, 9L, 10L), slice.events().stream().map(MachineEvent::sequence).toList(),
        "only the newest four are kept");
    assertEquals(3, slice.missed(), "events 4, 5 and 6 were overwritten before the watcher read them");
    assertEquals(0, log.after(6, 10).missed());
  }

  @Test
  void subscribersArePokedUntilTheyUnsubscribe() {
    AtomicInteger pokes = new AtomicInteger();
    Runnable unsubscribe = log.subscribe(pokes::incrementAndGet);
    publish(2);
    unsubscribe.run();
    publish(1);
    assertEquals(2, pokes.get());
  }

  @Test
  void refusesNonsense() {
    assertThrows(IllegalArgumentException.class, () -> new EventLog(0, System::currentTimeMillis));
    assertThrows(IllegalArgumentException.class, () -> log.after(0, 0));
  }

  @Test
  void eventsCarryTheLabTimeApartFromTheWallTime() {
    log.stampLabTimeFrom(() -> 5_000_000_000L);
    MachineEvent e = log.publish(EventKind.BALLOON_TARGET_SET, 1, "vm1", "target set");
    assertEquals(5_000_000_000L, e.labTimeNs());
    assertEquals(1234L, e.wallTimeMillis());
  }
}
