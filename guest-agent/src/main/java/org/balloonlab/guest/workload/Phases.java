package org.balloonlab.guest.workload;

import java.util.SplittableRandom;
import org.balloonlab.units.MemorySize;

/**
 * A working set that grows and shrinks: each phase touches a prefix of the address space uniformly at random
 * for a number of accesses, then the next phase takes another size. A shrinking phase leaves pages that were
 * hot go cold, which is what a reclamation policy must notice.
 */
final class Phases implements Workload {
  private final WorkloadSpec spec;
  private int phase;
  private long doneInPhase;
  private long done;

  Phases(WorkloadSpec spec) {
    this.spec = spec;
  }

  @Override
  public long next(SplittableRandom random) {
    if (doneInPhase >= spec.accesses()) {
      phase++;
      doneInPhase = 0;
      if (phase == spec.phasePages().size()) {
        if (!spec.loop()) {
          phase--;
          doneInPhase = spec.accesses();
          return DONE;
        }
        phase = 0;
      }
    }
    doneInPhase++;
    int size = Math.min(spec.phasePages().get(phase), spec.reachablePages(done++));
    return Workload.encode(random.nextInt(size), random.nextDouble() < spec.writeFraction());
  }

  @Override
  public int footprintPages() {
    return spec.footprintPages();
  }

  @Override
  public String describe() {
    return "phase " + (phase + 1) + "/" + spec.phasePages().size() + " "
        + MemorySize.humanPages(spec.phasePages().get(phase));
  }
}
