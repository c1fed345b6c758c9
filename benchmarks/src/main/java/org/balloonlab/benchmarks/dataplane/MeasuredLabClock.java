package org.balloonlab.benchmarks.dataplane;

import org.balloonlab.domain.GuestStatus;
import org.balloonlab.guest.vcpu.LabClockLink;

/**
 * The lab clock link the harness gives a guest's vCPU: the access stream's own ({@code GrpcLabClock}), passed
 * through with two changes that only a benchmark needs.
 *
 * <p><b>It counts</b> the quanta the vCPU takes, and how many of them it answered at once because its VM time was
 * already at or past the quantum's end (docs/lab-clock.md, step 2 of a quantum). Every quantum taken is one
 * boundary of the lab clock passed while the guest ran, so quanta over wall time is the clock's step rate as the
 * guest sees it. Quanta answered at once are the price of the guest's deterministic clock: within a quantum it
 * counts the hypervisor's charges only as of its last drain, so a busy guest runs past the quantum's end by the
 * charges of the batches still in flight, then owes the clock one round trip per quantum it overran.
 *
 * <p><b>A stop leaves in a quantum.</b> {@link #wake()} is not passed on, so a vCPU asked to stop while it waits
 * for a grant keeps waiting and leaves in the next quantum, naming it. Woken instead, it would leave naming the last
 * quantum it took; when the clock runs at {@code --pace max} the next grant is then often already on its way, and
 * the hypervisor's sequencer takes a done for the quantum before the one it runs for a broken protocol and drops
 * the VM (its access stream fails, the audit cannot run). On a running clock the next grant comes within one step,
 * which is all a stop waits longer. The guest agent stops that way only on SIGTERM, and a lab stops its guests while
 * the clock is held, when no grant is on its way.
 *
 * <p>Like the link it wraps, it is called on the vCPU's thread, so its counts are plain fields; read them on that
 * thread once the vCPU has returned.
 */
final class MeasuredLabClock implements LabClockLink {

  /**
   * @param taken grants the vCPU took
   * @param answeredAtOnce of those, the grants whose end the VM's time had already reached
   */
  record Counts(long taken, long answeredAtOnce) {
    static final Counts NONE = new Counts(0, 0);
  }

  private final LabClockLink link;
  private long taken;
  private long answeredAtOnce;
  /** The VM time of the last {@link #done}; none yet before the first. */
  private long vmTimeNs = Long.MIN_VALUE;

  MeasuredLabClock(LabClockLink link) {
    this.link = link;
  }

  @Override
  public Grant awaitGrant() {
    Grant g = link.awaitGrant();
    if (g != null) {
      taken++;
      // The vCPU's own test: it runs a quantum only while its VM time is below the quantum's end.
      if (vmTimeNs >= g.endNs()) {
        answeredAtOnce++;
      }
    }
    return g;
  }

  @Override
  public void done(long quantum, long vmTimeNs, boolean leaving, GuestStatus reportOrNull) {
    this.vmTimeNs = vmTimeNs;
    link.done(quantum, vmTimeNs, leaving, reportOrNull);
  }

  /** Not passed on: see the class comment. The vCPU sees its stop request when the next grant comes. */
  @Override
  public void wake() {
  }

  Counts counts() {
    return new Counts(taken, answeredAtOnce);
  }
}
