package org.balloonlab.guest.workload;

import java.util.SplittableRandom;
import org.balloonlab.units.MemorySize;

/** Touches pages of its footprint uniformly at random: no locality for replacement to exploit. */
final class UniformRandom extends SpecWorkload {
  UniformRandom(WorkloadSpec spec) {
    super(spec);
  }

  @Override
  public long next(SplittableRandom random) {
    if (limitReached()) {
      return DONE;
    }
    return access(random.nextInt(spec.reachablePages(done++)), random);
  }

  @Override
  public String describe() {
    return "uniform " + MemorySize.humanPages(spec.footprintPages());
  }
}
