package org.balloonlab.guest.workload;

import java.util.SplittableRandom;
import org.balloonlab.units.MemorySize;

/**
 * Touches its footprint once, then idles for ever: memory allocated and never used again, the idle memory that
 * ballooning and the idle memory tax reclaim.
 */
final class Idle implements Workload {
  private final WorkloadSpec spec;
  private int touched;

  Idle(WorkloadSpec spec) {
    this.spec = spec;
  }

  @Override
  public long next(SplittableRandom random) {
    if (touched < spec.footprintPages()) {
      return Workload.encode(touched++, random.nextDouble() < spec.writeFraction());
    }
    return IDLE;
  }

  @Override
  public int footprintPages() {
    return spec.footprintPages();
  }

  @Override
  public String describe() {
    return touched < spec.footprintPages() ? "idle (touching " + MemorySize.humanPages(spec.footprintPages()) + ")"
        : "idle " + MemorySize.humanPages(spec.footprintPages());
  }
}
