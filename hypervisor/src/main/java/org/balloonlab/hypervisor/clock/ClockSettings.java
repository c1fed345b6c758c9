package org.balloonlab.hypervisor.clock;

/**
 * How the clock runs.
 *
 * @param quantumNs simulated nanoseconds between two boundaries
 * @param pace simulated seconds per wall second at most; 0 for as fast as the CPUs allow
 * @param graceNanos wall time a member may take to produce its next operation before it is dropped
 */
public record ClockSettings(long quantumNs, double pace, long graceNanos) {
  public ClockSettings {
    if (quantumNs <= 0) {
      throw new IllegalArgumentException("the quantum must be positive, got " + quantumNs + " ns");
    }
    if (!(pace >= 0) || Double.isInfinite(pace)) {
      throw new IllegalArgumentException("the pace must be 0 (max) or a positive factor, got " + pace);
    }
    if (graceNanos <= 0) {
      throw new IllegalArgumentException("the straggler grace must be positive");
    }
  }
}
