package org.balloonlab.guest.workload;

import java.util.SplittableRandom;
import org.balloonlab.units.MemorySize;

/**
 * Touches its footprint once, then idles for ever: memory allocated and never used again, the idle memory that
 * ballooning and the idle memory tax reclaim.
 */
final class Idle extends SpecWorkload {
  Idle(WorkloadSpec spec) {
    super(spec);
  }

  @Override
  public long next(SplittableRandom random) {
    if (done < spec.footprintPages()) {
      return access((int) done++, random);
    }
    return IDLE;
  }

  @Override
  public String describe() {
    return done < spec.footprintPages() ? "idle (touching " + MemorySize.humanPages(spec.footprintPages()) + ")"
        : "idle " + MemorySize.humanPages(spec.footprintPages());
  }
}
