package org.balloonlab.hypervisor.policy;

import java.util.List;
import org.balloonlab.domain.PolicyNames;

/**
 * Leaves every allocation where it is: balloon targets change only when an operator sets them, as with QEMU's
 * {@code balloon} command. Nothing is paged to a target: the hypervisor pages only when a fault finds no free frame.
 */
public final class ManualPolicy implements ReclamationPolicy {
  @Override
  public String name() {
    return PolicyNames.MANUAL;
  }

  @Override
  public boolean reclaims() {
    return false;
  }

  @Override
  public long[] allocate(MemoryPressure pressure, List<VmDemand> vms) {
    long[] targets = new long[vms.size()];
    for (int i = 0; i < targets.length; i++) {
      VmDemand d = vms.get(i);
      targets[i] = Math.max(d.minPages(), Math.min(d.maxPages(), d.currentTarget()));
    }
    return targets;
  }
}
