package org.balloonlab.benchmarks;

import java.lang.management.ManagementFactory;

/**
 * CPU time of this JVM, all threads: what the harnesses print beside a wall-clock rate, so a reader sees whether
 * the figure was bound by CPU or by waiting. The hypervisor's own JVM reports its time through
 * {@link HypervisorJvm#cpuNanos()}.
 */
public final class CpuTime {
  private CpuTime() {}

  /** CPU nanoseconds this JVM has used so far, or -1 where the platform does not say. */
  public static long thisJvmNanos() {
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getProcessCpuTime();
    }
    return -1;
  }
}
