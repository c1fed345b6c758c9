package org.balloonlab.guest.os;

/**
 * The guest's view of its guest-physical memory, which the hypervisor backs. Writes and reads are pipelined:
 * a read is checked against the value the guest expects when its answer arrives, and only
 * {@link #readForSwapOut} waits for a value.
 *
 * <p>Implementations call {@link ReadChecker#mismatch} for every read that did not return what was expected.
 */
public interface PhysicalMemory extends AutoCloseable {

  /** Called for each read whose value differs from the expected one. */
  @FunctionalInterface
  interface ReadChecker {
    void mismatch(int pfn, long expected, long actual);
  }

  /** Stores {@code token} in page {@code pfn}. */
  void write(int pfn, long token);

  /** Reads page {@code pfn}; the answer is checked against {@code expected} when it arrives. */
  void read(int pfn, long expected);

  /**
   * Reads {@code count} pages to write them to the guest's swap, and waits for their values. Everything queued
   * before is applied first; the values are checked against {@code expected} too. Reading a cluster of victims
   * at once costs one round trip to the hypervisor instead of one per page.
   */
  void readForSwapOut(int[] pfns, long[] expected, int count, long[] values);

  /** Sends what is queued and waits until every access so far has been answered and checked. */
  void flush();

  /** Sends the guest's status to the hypervisor with the accesses queued so far, without waiting. */
  void report(GuestStatus status);

  /** Simulated time the hypervisor has charged this VM so far, as of the last answer received. */
  long hypervisorNs();

  @Override
  void close();
}
