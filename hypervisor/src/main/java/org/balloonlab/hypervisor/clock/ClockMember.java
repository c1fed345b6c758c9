package org.balloonlab.hypervisor.clock;

/**
 * A VM on the clock, as the transport edge represents it; its {@code toString} names it in the clock's messages
 * ("VM 2 (vm2)"). Called on the sequencer thread.
 */
public interface ClockMember {
  /** Lets the VM run quantum {@code quantum}, from lab time {@code startNs} to {@code endNs}. */
  void grant(long quantum, long startNs, long endNs, boolean doorbell);

  /** The VM stopped producing operations or broke the protocol: power it off, saying {@code why}. */
  void drop(String why);
}
