package org.balloonlab.guest.vcpu;

import org.balloonlab.domain.GuestStatus;

/**
 * The vCPU's side of the lab clock (docs/lab-clock.md), free of any transport: the hypervisor grants the VM one
 * quantum of lab time after another, and the vCPU answers each once it has run to the quantum's end and every
 * access it made is answered. The guest agent speaks it over the VM's access stream; tests use fakes.
 *
 * <p>Every method but {@link #wake()} is called on the vCPU's thread only, so {@link #done} goes out in order
 * with the batches before it.
 */
public interface LabClockLink {

  /**
   * Leave to run one quantum.
   *
   * @param quantum the quantum's number: 1, 2, ...
   * @param startNs lab time at the boundary that starts it
   * @param endNs lab time at the boundary that ends it
   * @param doorbell the VM's balloon target, requested driver mode or reset flag changed at this boundary
   */
  record Grant(long quantum, long startNs, long endNs, boolean doorbell) {}

  /**
   * Waits for the next grant, for as long as the clock is held (a held clock may keep a VM waiting as long as its
   * holder likes).
   *
   * @return the grant, or {@code null} when {@link #wake()} ended the wait: the vCPU was asked to stop
   * @throws RuntimeException the transport's failure, when the hypervisor went away or powered the VM off
   */
  Grant awaitGrant();

  /**
   * Ends the VM's part of a quantum. Call only when every access made so far has been answered.
   *
   * @param quantum the quantum ended, or the last one granted when the VM leaves between two quanta
   * @param vmTimeNs the VM's lab time now
   * @param leaving the guest stops taking part in the clock: it is shutting down
   * @param reportOrNull the guest's report, when one is due; taken after the drain, so its time is exact
   */
  void done(long quantum, long vmTimeNs, boolean leaving, GuestStatus reportOrNull);

  /** Ends a wait in {@link #awaitGrant()}, which answers {@code null}. Safe from any thread. */
  void wake();
}
