package org.balloonlab.hypervisor.machine;

/** Per-page outcome of a balloon lock or unlock, in the order of the wire's {@code BalloonPageStatus}. */
public enum BalloonPageStatus {
  OK, INVALID, ALREADY_LOCKED, NOT_LOCKED, DUPLICATE, REFUSED, RESET
}
