package org.balloonlab.hypervisor.event;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.LongSupplier;
import org.balloonlab.hypervisor.policy.TargetDecision;

/**
 * The machine's recent events, for operators who follow them as they happen.
 *
 * <p>A bounded ring: the newest {@code capacity} events are kept and older ones are overwritten, so however slow
 * a watcher is, the log never grows. A watcher keeps its own cursor (the last sequence it has seen) and asks for
 * what came after it; if the ring has moved past its cursor, the answer says how many events it missed, so the
 * watcher can tell its reader instead of silently skipping them.
 *
 * <p>Publishing happens under the machine's lock, so it only stores the event and pokes subscribers, who must
 * hand the work to a thread of their own (a stream write must never happen under the machine's lock).
 */
public final class EventLog {
  /** Events kept by default: a few minutes of a busy lab. */
  public static final int DEFAULT_CAPACITY = 4096;

  /**
   * What came after a cursor.
   *
   * @param events the events after the cursor still in the ring, oldest first
   * @param missed events after the cursor that the ring had already overwritten
   * @param lastSequence the newest sequence in the log when asked (0 if none yet)
   */
  public record Slice(List<MachineEvent> events, long missed, long lastSequence) {
  }

  private final MachineEvent[] ring;
  private final LongSupplier wallClock;
  private volatile LongSupplier labClock = () -> 0;
  private final List<Runnable> subscribers = new CopyOnWriteArrayList<>();
  private long lastSequence;

  public EventLog() {
    this(DEFAULT_CAPACITY, System::currentTimeMillis);
  }

  /**
   * @param capacity events kept
   * @param wallClock milliseconds since the epoch, replaceable in tests
   */
  public EventLog(int capacity, LongSupplier wallClock) {
    if (capacity <= 0) {
      throw new IllegalArgumentException("an event log must keep at least one event, got " + capacity);
    }
    this.ring = new MachineEvent[capacity];
    this.wallClock = wallClock;
  }

  /**
   * Where events take their lab time (simulated nanoseconds, the time that belongs to a run's results); the wall
   * time they also carry is for people reading a log.
   */
  public void stampLabTimeFrom(LongSupplier labClock) {
    this.labClock = labClock;
  }

  /** Records an event and pokes every subscriber. @return the event as recorded */
  public MachineEvent publish(EventKind kind, int vmId, String vmName, String message) {
    return publish(kind, vmId, vmName, message, null);
  }

  /** Records a policy decision that moved a VM's target. @return the event as recorded */
  public MachineEvent publish(TargetDecision decision) {
    return publish(EventKind.TARGET_DECIDED, decision.vmId(), decision.vmName(), decision.summary(), decision);
  }

  private MachineEvent publish(EventKind kind, int vmId, String vmName, String message, TargetDecision decision) {
    MachineEvent event;
    synchronized (this) {
      event = new MachineEvent(++lastSequence, wallClock.getAsLong(), kind, vmId, vmName == null ? "" : vmName,
          message, labClock.getAsLong(), decision);
      ring[(int) ((event.sequence() - 1) % ring.length)] = event;
    }
    for (Runnable s : subscribers) {
      s.run();
    }
    return event;
  }

  /** Up to {@code max} events with a sequence above {@code afterSequence}, oldest first. */
  public synchronized Slice after(long afterSequence, int max) {
    if (max <= 0) {
      throw new IllegalArgumentException("max must be positive, got " + max);
    }
    long from = Math.max(afterSequence, 0) + 1;
    long oldestKept = Math.max(1, lastSequence - ring.length + 1);
    long missed = 0;
    if (from < oldestKept) {
      missed = oldestKept - from;
      from = oldestKept;
    }
    List<MachineEvent> events = new ArrayList<>();
    for (long s = from; s <= lastSequence && events.size() < max; s++) {
      events.add(ring[(int) ((s - 1) % ring.length)]);
    }
    return new Slice(List.copyOf(events), missed, lastSequence);
  }

  public int capacity() {
    return ring.length;
  }

  /** How many subscribers are poked now: a watcher that went away must not stay subscribed. */
  public int subscribers() {
    return subscribers.size();
  }

  /**
   * Calls {@code onPublish} after every event, on the publisher's thread (possibly under the machine's lock):
   * it must only schedule work, never block.
   *
   * @return running it unsubscribes
   */
  public Runnable subscribe(Runnable onPublish) {
    subscribers.add(onPublish);
    return () -> subscribers.remove(onPublish);
  }
}
