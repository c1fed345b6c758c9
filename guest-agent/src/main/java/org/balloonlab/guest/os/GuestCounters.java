package org.balloonlab.guest.os;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What the guest OS counts. The vCPU thread alone updates the plain fields; violations arrive from the thread
 * that checks read answers, hence atomics.
 */
public final class GuestCounters {
  long accesses;
  long reads;
  long writes;
  long trueFaults;
  /** Faults served from the guest's swap. */
  long majorFaults;
  /** Faults served by zero-filling a free page. */
  long minorFaults;
  long pageOuts;
  long pageIns;
  /** Victims never written, dropped without swap I/O because their content is zero. */
  long zeroPagesDropped;
  long contextSwitches;
  /** Pages the balloon driver gave back when the guest would otherwise have run out of memory. */
  long oomDeflations;
  final AtomicLong integrityViolations = new AtomicLong();
  final AtomicLong isolationViolations = new AtomicLong();

  public long accesses() {
    return accesses;
  }

  public long reads() {
    return reads;
  }

  public long writes() {
    return writes;
  }

  public long trueFaults() {
    return trueFaults;
  }

  public long majorFaults() {
    return majorFaults;
  }

  public long minorFaults() {
    return minorFaults;
  }

  public long pageOuts() {
    return pageOuts;
  }

  public long pageIns() {
    return pageIns;
  }

  public long zeroPagesDropped() {
    return zeroPagesDropped;
  }

  public long oomDeflations() {
    return oomDeflations;
  }

  public long contextSwitches() {
    return contextSwitches;
  }

  public long integrityViolations() {
    return integrityViolations.get();
  }

  public long isolationViolations() {
    return isolationViolations.get();
  }
}
