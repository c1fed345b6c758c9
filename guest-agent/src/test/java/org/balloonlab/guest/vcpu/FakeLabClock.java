package org.balloonlab.guest.vcpu;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.balloonlab.domain.GuestStatus;

/**
 * A lab clock for one VM: grants {@code quanta} consecutive quanta of {@code quantumNs} from {@code startNs}, the
 * doorbell rung on the quanta named, then either ends (as a vCPU asked to stop between quanta sees it) or holds
 * the clock until {@link #wake()}. It records every grant and every answer, and checks that an answer comes
 * only when the VM's memory has nothing in flight.
 */
public final class FakeLabClock implements LabClockLink {
  /** One {@code QuantumDone} as the hypervisor would receive it. */
  public record Done(long quantum, long vmTimeNs, boolean leaving, GuestStatus report) {}

  private final long startNs;
  private final long quantumNs;
  private final int quanta;
  private final boolean hold;
  private final Set<Long> doorbells;
  private BooleanSupplier drained = () -> true;
  private long next = 1;
  private boolean woken;
  final List<Grant> grants = new ArrayList<>();
  final List<Done> dones = new ArrayList<>();
  final List<String> violations = new ArrayList<>();

  /** The quantum granted last, 0 before the first. */
  public synchronized long current() {
    return grants.isEmpty() ? 0 : grants.get(grants.size() - 1).quantum();
  }

  public synchronized List<String> violations() {
    return List.copyOf(violations);
  }

  public FakeLabClock(long startNs, long quantumNs, int quanta, boolean hold, Long... doorbellQuanta) {
    this.startNs = startNs;
    this.quantumNs = quantumNs;
    this.quanta = quanta;
    this.hold = hold;
    this.doorbells = Set.of(doorbellQuanta);
  }

  /** What must hold when the vCPU answers: its memory has nothing in flight. */
  public FakeLabClock checkDrained(BooleanSupplier drainedNow) {
    this.drained = drainedNow;
    return this;
  }

  public long endOf(long quantum) {
    return startNs + quantum * quantumNs;
  }

  @Override
  public synchronized Grant awaitGrant() {
    while (!woken && next > quanta && hold) {
      try {
        wait();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return null;
      }
    }
    if (woken || next > quanta) {
      return null;
    }
    long q = next++;
    Grant g = new Grant(q, startNs + (q - 1) * quantumNs, endOf(q), doorbells.contains(q));
    grants.add(g);
    return g;
  }

  @Override
  public synchronized void done(long quantum, long vmTimeNs, boolean leaving, GuestStatus reportOrNull) {
    if (!drained.getAsBoolean()) {
      violations.add("quantum " + quantum + " ended with accesses in flight");
    }
    if (!grants.isEmpty() && quantum != grants.get(grants.size() - 1).quantum()) {
      violations.add("quantum " + quantum + " ended when " + grants.get(grants.size() - 1).quantum() + " ran");
    }
    dones.add(new Done(quantum, vmTimeNs, leaving, reportOrNull));
    notifyAll();
  }

  @Override
  public synchronized void wake() {
    woken = true;
    notifyAll();
  }

  public synchronized List<Done> dones() {
    return List.copyOf(dones);
  }
}
