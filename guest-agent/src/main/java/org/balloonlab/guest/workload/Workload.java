package org.balloonlab.guest.workload;

import java.util.SplittableRandom;

/**
 * A stream of memory accesses made by one guest process. Each call yields the next access encoded in a
 * {@code long} (no object per access, this is the hottest loop of the guest): {@code vpn << 1 | write}, or
 * {@link #IDLE} when the process has nothing to do for now, or {@link #DONE} when it has finished.
 */
public interface Workload {
  long IDLE = -1;
  long DONE = -2;

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

  static long encode(int vpn, boolean write) {
    return ((long) vpn << 1) | (write ? 1 : 0);
  }

  static int vpn(long access) {
    return (int) (access >>> 1);
  }

  static boolean isWrite(long access) {
    return (access & 1) != 0;
  }
}
