package org.balloonlab.hypervisor.clock;

/** Told, on the sequencer thread, that the clock is held at a lab time it asked for. */
@FunctionalInterface
public interface ClockHolder {
  void heldAt(long labTimeNs);
}
