package org.balloonlab.guest.workload;

import java.util.SplittableRandom;
import org.balloonlab.units.MemorySize;

/**
 * Most accesses go to a hot set at the start of the footprint (by default 80 % of accesses to 20 % of pages),
 * the rest spread uniformly over the cold pages: the locality that makes page replacement, and ballooning's
 * choice of victims by the guest, worthwhile.
 */
final class HotSet extends SpecWorkload {
  private final int hotPages;

  HotSet(WorkloadSpec spec) {
    super(spec);
    this.hotPages = Math.max(1, Math.min(spec.footprintPages() - 1, (int) (spec.footprintPages() * spec.hotFraction())));
  }

  @Override
  public long next(SplittableRandom random) {
    if (limitReached()) {
      return DONE;
    }
    int reach = spec.reachablePages(done++);
    // While ramping, the hot set grows in proportion to the reachable footprint.
    int hot = reach == spec.footprintPages() ? hotPages
        : (int) Math.max(1, (long) hotPages * reach / spec.footprintPages());
    int vpn = random.nextDouble() < spec.hotShare() || hot >= reach
        ? random.nextInt(Math.min(hot, reach))
        : hot + random.nextInt(reach - hot);
    return access(vpn, random);
  }

  @Override
  public String describe() {
    return "hotset " + MemorySize.humanPages(spec.footprintPages()) + " (hot " + MemorySize.humanPages(hotPages) + ")";
  }
}
