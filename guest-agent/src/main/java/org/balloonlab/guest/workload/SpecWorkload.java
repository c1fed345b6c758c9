package org.balloonlab.guest.workload;

import java.util.SplittableRandom;

/**
 * What the workloads a {@link WorkloadSpec} describes have in common: the spec, an address space of its
 * footprint, a count of the accesses made (which the spec's {@code accesses} limit ends, when it sets one),
 * writes in the spec's proportion, and the spec's rate. Each subclass only chooses which page to touch next.
 */
abstract class SpecWorkload implements Workload {
  final WorkloadSpec spec;
  /** Accesses made so far. */
  long done;

  SpecWorkload(WorkloadSpec spec) {
    this.spec = spec;
  }

  @Override
  public final int footprintPages() {
    return spec.footprintPages();
  }

  @Override
  public final long ratePerSecond() {
    return spec.rate();
  }

  @Override
  public final ActivitySchedule schedule() {
    return spec.schedule();
  }

  @Override
  public final int filePages() {
    return spec.filePages();
  }

  @Override
  public final String dataSet() {
    return spec.dataSet();
  }

  @Override
  public final int dataPages() {
    return spec.dataPages();
  }

  /** Whether the spec's access limit is reached; never when it sets none. */
  final boolean limitReached() {
    return spec.accesses() > 0 && done >= spec.accesses();
  }

  /**
   * An access to {@code vpn}: a write with the spec's write fraction, drawn after the page was chosen; always a read
   * in the read-only regions at the start of the address space (the data set, then the zero region), so they keep
   * their shared content.
   */
  final long access(int vpn, SplittableRandom random) {
    boolean write = random.nextDouble() < spec.writeFraction();
    return Workload.encode(vpn, write && vpn >= spec.dataPages() + spec.zeroPages());
  }
}
