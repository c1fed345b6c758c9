package org.balloonlab.guest.workload;

import java.util.SplittableRandom;
import org.balloonlab.units.MemorySize;

/** Touches pages of its footprint uniformly at random: no locality for replacement to exploit. */
final class UniformRandom implements Workload {
  private final WorkloadSpec spec;
  private long done;

  UniformRandom(WorkloadSpec spec) {
    this.spec = spec;
  }

  @Override
  public long next(SplittableRandom random) {
    if (spec.accesses() > 0 && done >= spec.accesses()) {
      return DONE;
    }
    int reach = spec.reachablePages(done++);
    return Workload.encode(random.nextInt(reach), random.nextDouble() < spec.writeFraction());
  }

  @Override
  public int footprintPages() {
    return spec.footprintPages();
  }

  @Override
  public String describe() {
    return "uniform " + MemorySize.humanPages(spec.footprintPages());
  }
}
