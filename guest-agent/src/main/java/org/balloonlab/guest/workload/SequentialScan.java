package org.balloonlab.guest.workload;

import java.util.SplittableRandom;
import org.balloonlab.units.MemorySize;

/** Touches every page of its footprint in order, pass after pass: the worst case for LRU-like replacement. */
final class SequentialScan extends SpecWorkload {
  private int vpn;
  private long pass;

  SequentialScan(WorkloadSpec spec) {
    super(spec);
  }

  @Override
  public long next(SplittableRandom random) {
    if ((spec.passes() > 0 && pass >= spec.passes()) || limitReached()) {
      return DONE;
    }
    int v = vpn;
    if (++vpn == spec.footprintPages()) {
      vpn = 0;
      pass++;
    }
    done++;
    return access(v, random);
  }

  @Override
  public String describe() {
    return "sequential " + MemorySize.humanPages(spec.footprintPages()) + " pass " + (pass + 1);
  }
}
