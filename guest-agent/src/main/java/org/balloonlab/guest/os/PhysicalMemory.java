package org.balloonlab.guest.os;

import org.balloonlab.domain.GuestStatus;

/**
 * The guest's view of its guest-physical memory, which the hypervisor backs. Writes and reads are pipelined:
 * a read is checked against the value the guest expects when its answer arrives, and only
 * {@link #readForSwapOut} waits for a value.
 *
 * <p>Implementations call {@link ReadChecker#mismatch} for every read that did not return what was expected.
 *
 * <p>A process's access says which address space and virtual page it translated ({@link #write(int, int, int,
 * long)}, {@link #read(int, int, int, long)}); the kernel's own accesses ({@link #write(int, long)},
 * {@link #read(int, long)}) go through its direct map, address space {@link #KERNEL_ASID} with VPN = PFN. Page-table
 * changes are told in order with the accesses ({@link #pageTableEvent}). The hypervisor uses both to charge
 * address translation; memories that model no translation may ignore them, which the defaults do.
 */
public interface PhysicalMemory extends AutoCloseable {
  /** The address space of the kernel's direct map, as the wire names it. */
  int KERNEL_ASID = 0xFFFF;

  /** Called for each read whose value differs from the expected one. */
  @FunctionalInterface
  interface ReadChecker {
    void mismatch(int pfn, long expected, long actual);
  }

  /** Stores {@code token} in page {@code pfn}. */
  void write(int pfn, long token);

  /** Reads page {@code pfn}; the answer is checked against {@code expected} when it arrives. */
  void read(int pfn, long expected);

  /** Stores {@code token} in page {@code pfn}, which process {@code asid} reached through its VPN {@code vpn}. */
  default void write(int asid, int vpn, int pfn, long token) {
    write(pfn, token);
  }

  /** Reads page {@code pfn}, which process {@code asid} reached through its VPN {@code vpn}. */
  default void read(int asid, int vpn, int pfn, long expected) {
    read(pfn, expected);
  }

  /**
   * Tells of a change to the guest's translation, in order with the accesses around it.
   *
   * @param vpn the VPN concerned (0 for {@link PageTableEvent#SWITCH} and {@link PageTableEvent#RELEASE})
   * @param pfn the PFN now mapped for {@link PageTableEvent#MAP} and {@link PageTableEvent#REMAP}, else 0
   */
  default void pageTableEvent(PageTableEvent event, int asid, int vpn, int pfn) {
  }

  /**
   * Reads {@code count} pages to write them to the guest's swap, and waits for their values. Everything queued
   * before is applied first; the values are checked against {@code expected} too. Reading a cluster of victims
   * at once costs one round trip to the hypervisor instead of one per page.
   */
  void readForSwapOut(int[] pfns, long[] expected, int count, long[] values);

  /**
   * Marks the start ({@code true}) or end ({@code false}) of accesses that are the guest kernel's own and not its
   * workload's, such as the shutdown audit: they are applied, charged and checked as usual, but the hypervisor's
   * activity sampler does not count them. Accesses queued before a switch keep the kind they had. Memories that
   * sample nothing may ignore it, which the default does.
   */
  default void kernelOnly(boolean on) {
  }

  /** Sends what is queued and waits until every access so far has been answered and checked. */
  void flush();

  /** Sends the guest's status to the hypervisor with the accesses queued so far, without waiting. */
  void report(GuestStatus status);

  /** Simulated time the hypervisor has charged this VM so far, as of the last answer received. */
  long hypervisorNs();

  /**
   * Simulated time the hypervisor had charged this VM at the last <em>drain</em>: the last moment every batch
   * sent was answered ({@link #flush()} and {@link #readForSwapOut}). Unlike {@link #hypervisorNs()}, which grows
   * whenever an answer happens to arrive, this value changes only at points of the guest's own making, so a clock
   * read from it is the same on every run (see docs/lab-clock.md). A memory that answers at once may use the
   * running sum, which the default does.
   */
  default long drainedHypervisorNs() {
    return hypervisorNs();
  }

  @Override
  void close();
}
