package org.balloonlab.guest.workload;

import java.util.SplittableRandom;
import org.balloonlab.units.MemorySize;

/** Touches every page of its footprint in order, pass after pass: the worst case for LRU-like replacement. */
final class SequentialScan implements Workload {
  private final WorkloadSpec spec;
  private int vpn;
  private long pass;
  private long done;

  SequentialScan(WorkloadSpec spec) {
    this.spec = spec;
  }

  @Override
  public long next(SplittableRandom random) {
    if ((spec.passes() > 0 && pass >= spec.passes()) || (spec.accesses() > 0 && done >= spec.accesses())) {
      return DONE;
    }
    int v = vpn;
    if (++vpn == spec.footprintPages()) {
      vpn = 0;
      pass++;
    }
    done++;
    return Workload.encode(v, random.nextDouble() < spec.writeFraction());
  }

  @Override
  public int footprintPages() {
    return spec.footprintPages();
  }

  @Override
  public String describe() {
    return "sequential " + MemorySize.humanPages(spec.footprintPages()) + " pass " + (pass + 1);
  }
}
