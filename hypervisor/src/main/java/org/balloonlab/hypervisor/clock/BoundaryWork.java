package org.balloonlab.hypervisor.clock;

/** Work the machine does at every boundary, on the sequencer thread, after commands and before grants. */
@FunctionalInterface
public interface BoundaryWork {
  void atBoundary(long labTimeNs);
}
