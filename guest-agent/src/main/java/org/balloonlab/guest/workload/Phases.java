package org.balloonlab.guest.workload;

import java.util.SplittableRandom;
import org.balloonlab.units.MemorySize;

/**
 * A working set that grows and shrinks: each phase touches a prefix of the address space uniformly at random
 * for a number of accesses, then the next phase takes another size. A shrinking phase leaves pages that were
 * hot go cold, which is what a reclamation policy must notice.
 */
final class Phases extends SpecWorkload {
  private int phase;
  private long doneInPhase;

  Phases(WorkloadSpec spec) {
    super(spec);
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
    return access(random.nextInt(size), random);
  }

  @Override
  public String describe() {
    return "phase " + (phase + 1) + "/" + spec.phasePages().size() + " "
        + MemorySize.humanPages(spec.phasePages().get(phase));
  }
}
