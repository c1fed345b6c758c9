package org.balloonlab.hypervisor.machine;

import java.util.concurrent.atomic.AtomicBoolean;
import org.balloonlab.hypervisor.clock.BoundaryWork;
import org.balloonlab.hypervisor.clock.LabClock;

/**
 * Runs the machine's reclamation policy on the lab clock: at the first boundary of every policy period of
 * simulated time, and at the next boundary after the free-memory state got worse, so a machine falling through
 * the soft threshold is answered a quantum later rather than a period later. Decisions happen only at boundaries,
 * where every VM has ended the quantum, so they see the same machine whatever the host's load
 * ({@code docs/lab-clock.md}). {@link ReclamationLoop} does the same on wall time for a hypervisor that runs free.
 */
public final class ReclamationOnLabClock implements BoundaryWork {
  private final Machine machine;
  private final long periodNs;
  private final AtomicBoolean prompt = new AtomicBoolean();
  private long nextDecisionNs;
  private long lastBoundaryNs;

  /** Decides every {@code periodNs} of lab time; listens to the machine's pressure for prompt decisions. */
  public ReclamationOnLabClock(Machine machine, long periodNs) {
    if (periodNs <= 0) {
      throw new IllegalArgumentException("the policy period must be positive, got " + periodNs + " ns");
    }
    this.machine = machine;
    this.periodNs = periodNs;
    this.nextDecisionNs = periodNs;
    machine.onPressure(() -> prompt.set(true));
  }

  @Override
  public void atBoundary(long labTimeNs) {
    // The page-sharing scanner runs on the same boundaries, at its rate over the lab time since the last one.
    machine.scanForSharing(labTimeNs - lastBoundaryNs);
    lastBoundaryNs = labTimeNs;
    boolean due = labTimeNs >= nextDecisionNs;
    if (due) {
      nextDecisionNs = (labTimeNs / periodNs + 1) * periodNs;
    }
    if (prompt.getAndSet(false) || due) {
      machine.rebalance();
    }
  }
}
