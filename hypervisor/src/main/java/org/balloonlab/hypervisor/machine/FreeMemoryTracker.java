package org.balloonlab.hypervisor.machine;

import java.util.Locale;
import org.balloonlab.hypervisor.event.EventKind;
import org.balloonlab.hypervisor.event.EventLog;
import org.balloonlab.hypervisor.policy.FreeMemoryState;
import org.balloonlab.hypervisor.policy.FreeMemoryThresholds;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The machine's free-memory state (high, soft, hard, low; ESX, ARCHITECTURE.md section 6) as machine memory's
 * free frames move, with the thresholds' hysteresis. Every change is logged and published as an event; a change
 * for the worse wakes the reclamation loop through the pressure listener, so a machine falling through a
 * threshold between two periods is answered at once.
 *
 * <p>Not thread-safe: every method assumes the caller holds the machine's lock. The listener is called under
 * that lock, so it must not block.
 */
final class FreeMemoryTracker {
  /** The machine's logger: the hypervisor's log reads as it did when the machine was one class. */
  private static final Logger log = LoggerFactory.getLogger(Machine.class);

  private final MachineMemory memory;
  private final FreeMemoryThresholds thresholds;
  private final EventLog events;
  /** Above this many free frames a high machine stays high, so a batch need not recompute the state. */
  private final long softFrames;
  private final MachineCounters machineCounters;
  private FreeMemoryState state = FreeMemoryState.HIGH;
  private Runnable pressureListener = () -> { };

  FreeMemoryTracker(MachineMemory memory, FreeMemoryThresholds thresholds, EventLog events,
                    MachineCounters machineCounters) {
    this.memory = memory;
    this.thresholds = thresholds;
    this.events = events;
    this.machineCounters = machineCounters;
    this.softFrames = (long) Math.ceil(memory.frames() * thresholds.soft() / 100.0);
  }

  FreeMemoryState state() {
    return state;
  }

  FreeMemoryThresholds thresholds() {
    return thresholds;
  }

  void onPressure(Runnable listener) {
    this.pressureListener = listener;
  }

  /** After a batch: the common case, a high machine well above the soft threshold, costs one comparison. */
  void updateAfterBatch() {
    if (memory.freeFrames() < softFrames || state != FreeMemoryState.HIGH) {
      update();
    }
  }

  void update() {
    FreeMemoryState next = thresholds.next(state, memory.freeFrames(), memory.frames());
    if (next != state) {
      boolean worse = next.ordinal() > state.ordinal();
      log.info("free memory {} of {} frames ({}%): state {} -> {}", memory.freeFrames(), memory.frames(),
          String.format(Locale.ROOT, "%.1f", 100.0 * memory.freeFrames() / memory.frames()),
          state.label(), next.label());
      events.publish(EventKind.FREE_STATE_CHANGED, 0, "", String.format(Locale.ROOT,
          "free memory %.1f%% (%d of %d frames): %s -> %s", 100.0 * memory.freeFrames() / memory.frames(),
          memory.freeFrames(), memory.frames(), state.label(), next.label()));
      state = next;
      machineCounters.freeStateChanges++;
      if (worse) {
        pressureListener.run();
      }
    }
  }
}
