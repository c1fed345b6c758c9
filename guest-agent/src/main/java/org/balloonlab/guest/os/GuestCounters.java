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
  /** Pages of per-page kernel metadata allocated at boot ({@link BootStructures}). */
  long bootPages;
  /** Pages of OS image written at boot ({@link ContentImage}). */
  long imagePages;
  /** Pages the page cache holds now. */
  long pageCachePages;
  /** File accesses served from the page cache. */
  long cacheHits;
  /** File accesses that had to bring the page into the cache. */
  long cacheMisses;
  /** Misses that read the page from disk (a hole never written reads nothing). */
  long cacheDiskReads;
  /** Cache pages given up under memory pressure. */
  long cacheDrops;
  /** Dirty cache pages written back to disk before they were dropped. */
  long cacheWritebacks;
  /** Faults that filled a page of a data set from disk. */
  long dataSetFills;
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

  public long bootPages() {
    return bootPages;
  }

  public long imagePages() {
    return imagePages;
  }

  public long pageCachePages() {
    return pageCachePages;
  }

  public long cacheHits() {
    return cacheHits;
  }

  public long cacheMisses() {
    return cacheMisses;
  }

  public long cacheDiskReads() {
    return cacheDiskReads;
  }

  public long cacheDrops() {
    return cacheDrops;
  }

  public long cacheWritebacks() {
    return cacheWritebacks;
  }

  /** File reads and writes: cache hits plus misses. */
  public long fileOps() {
    return cacheHits + cacheMisses;
  }

  public long dataSetFills() {
    return dataSetFills;
  }

  public long integrityViolations() {
    return integrityViolations.get();
  }

  public long isolationViolations() {
    return isolationViolations.get();
  }
}
