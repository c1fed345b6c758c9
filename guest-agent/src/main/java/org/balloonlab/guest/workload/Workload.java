package org.balloonlab.guest.workload;

import java.util.SplittableRandom;

/**
 * A stream of memory accesses made by one guest process. Each call yields the next access encoded in a
 * {@code long} (no object per access, this is the hottest loop of the guest): {@code vpn << 1 | write}, or
 * {@code FILE | page << 1 | write} for a read or write of page {@code page} of the process's file (through the guest's
 * page cache, {@link #filePages()}), or {@link #IDLE} when the process has nothing to do for now, or {@link #DONE}
 * when it has finished.
 */
public interface Workload {
  long IDLE = -1;
  long DONE = -2;
  /** Marks a file access. */
  long FILE = 1L << 40;

  /** The next access, {@link #IDLE} or {@link #DONE}. */
  long next(SplittableRandom random);

  /** The number of virtual pages the workload may touch: its process's address space. */
  int footprintPages();

  /** What the workload is doing now, for status lines: {@code hotset 400MiB}, {@code phase 2/3 100MiB}. */
  String describe();

  /**
   * Accesses per second of simulated time the process may make at most, which the vCPU enforces by letting it
   * sleep; 0 (the default) for as fast as the vCPU runs it.
   */
  default long ratePerSecond() {
    return 0;
  }

  /** When the workload works and when it idles, on the guest's simulated time; {@code null} (the default) for always. */
  default ActivitySchedule schedule() {
    return null;
  }

  /** Pages of file the process reads and writes through the page cache; 0 (the default) for none. */
  default int filePages() {
    return 0;
  }

  /** The data set mapped at the start of the address space ({@link #dataPages()} pages), or {@code null}. */
  default String dataSet() {
    return null;
  }

  /** Pages of the data set from VPN 0; 0 (the default) for none. */
  default int dataPages() {
    return 0;
  }

  /** A read or write of page {@code page} of the process's file. */
  static long encodeFile(int page, boolean write) {
    return FILE | ((long) page << 1) | (write ? 1 : 0);
  }

  static boolean isFile(long access) {
    return (access & FILE) != 0;
  }

  static long encode(int vpn, boolean write) {
    return ((long) vpn << 1) | (write ? 1 : 0);
  }

  /** The VPN of a memory access, or the file page of a file access. */
  static int vpn(long access) {
    return (int) ((access & ~FILE) >>> 1);
  }

  static boolean isWrite(long access) {
    return (access & 1) != 0;
  }
}
