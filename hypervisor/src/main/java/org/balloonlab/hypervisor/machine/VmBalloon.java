package org.balloonlab.hypervisor.machine;

import org.balloonlab.domain.DriverMode;
/**
 * One VM's balloon as the hypervisor keeps it: the balloon target and size, the driver's current session and
 * the capabilities it negotiated, a pending reset, the operator's driver-mode request, the times the stall check
 * and the views need, and the balloon's counters. The ballooned PFNs themselves are P2M entries
 * ({@link P2m#BALLOONED}), so this object stays a few fields however large the balloon grows.
 *
 * <p>Owned by its {@link Vm}; changed only by {@link BalloonBackend} (and the VM's power-on), under the
 * machine's lock. Times are in the machine's clock, nanoseconds.
 */
final class VmBalloon {
  long target;
  long size;
  /** The open session's id, 0 when no driver is connected. */
  long session;
  int sessionBatch;
  boolean sessionDoorbell;
  boolean sessionStats;
  /** The hypervisor dropped the balloon; every call answers RESET until the driver opens a new session. */
  boolean resetPending;
  long refused;
  long lastContactNanos;
  boolean everContacted;
  /** When the balloon last moved toward its target, or was given a new demand: the stall clock starts here. */
  long progressNanos;
  long resets;
  long locked;
  long unlocked;
  DriverMode requestedMode;
  /**
   * The last Lock or Unlock applied with a request id in the current session, kept to answer its retries
   * ({@code BalloonPagesRequest.request_id}): its id (0: none), direction, PFNs, statuses (ordinals). One call
   * per VM suffices: a driver keeps one in flight. Cleared when a session opens; at most one batch of ints.
   */
  long lastRequestId;
  boolean lastLock;
  int lastCount;
  int[] lastPfns = new int[0];
  byte[] lastStatuses = new byte[0];
  /** The target part of that call's answer: a retry gets the very answer the call got, whenever it comes. */
  BalloonReply lastReply;

  VmBalloon(long nowNanos) {
    this.progressNanos = nowNanos;
  }

  /** Whether the driver has been short of its target for longer than {@code stallNanos}: it is uncooperative. */
  boolean stalled(long nowNanos, long stallNanos) {
    return size != target && nowNanos - progressNanos > stallNanos;
  }

  void contact(long nowNanos) {
    lastContactNanos = nowNanos;
    everContacted = true;
  }

  BalloonReply reply() {
    return new BalloonReply(target, resetPending, requestedMode);
  }

  BalloonSnapshot snapshot(long nowNanos, long stallNanos) {
    return new BalloonSnapshot(target, size, session != 0, session, refused,
        everContacted ? nowNanos - lastContactNanos : -1, stalled(nowNanos, stallNanos), requestedMode, resets,
        locked, unlocked);
  }
}
