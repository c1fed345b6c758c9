package org.balloonlab.hypervisor.clock;

import java.util.ArrayDeque;

/** One VM on the lab clock: its operations in arrival order, and where it stands in the quantum. */
final class ClockSlot {
  /** An operation of the VM; {@code ends} marks its end of quantum {@code quantum} (and {@code leaving}). */
  record Op(Runnable work, boolean ends, long quantum, boolean leaving) {}

  final int vmId;
  final ClockMember member;
  final ArrayDeque<Op> ops = new ArrayDeque<>();
  boolean done = true;
  boolean doorbell;
  long vmTimeNs;

  ClockSlot(int vmId, ClockMember member) {
    this.vmId = vmId;
    this.member = member;
  }
}
