package org.balloonlab.hypervisor.clock;

import java.util.List;

/** The clock as it stands; see {@code LabClockState} in management.proto. */
public record ClockState(long labTimeNs, long quantumNs, double pace, long boundaries, int members, long heldAtNs,
                         boolean reproducible, List<String> notReproducibleBecause, long wallElapsedNanos) {
  /** Simulated seconds per wall second over the run so far. */
  public double simulatedPerWallSecond() {
    return wallElapsedNanos <= 0 ? 0 : (double) labTimeNs / wallElapsedNanos;
  }
}
