package org.balloonlab.hypervisor.policy;

import java.util.List;

/**
 * ESX's allocation policy (Waldspurger, OSDI 2002): proportional shares with an idle memory tax.
 *
 * <p>A VM's claim to the memory it holds is its shares per page, {@code rho = S / (P * (f + k(1 - f)))} with
 * {@code k = 1 / (1 - tau)}: a VM that uses only a fraction {@code f} of its pages is charged {@code k} times
 * more for its idle ones, so with {@code tau = 0.75} an idle page costs four active ones. When free memory falls
 * below the soft threshold, the policy takes memory from the VM with the lowest {@code rho}, a chunk at a time,
 * recomputing {@code rho} after each chunk (min-funding revocation), until the memory already being reclaimed
 * plus what it takes now would bring free memory back to the target ({@code high + hysteresis}). A VM is never
 * taken below its {@code min}. When free memory is back above the target by more than the hysteresis band, the
 * surplus is given back, highest {@code rho} first, so balloons deflate toward the VMs that value memory most.
 *
 * <p>What a VM holds, {@code P}, is what it maps now, capped by its last target: an allotment it does not use
 * is taken first, since taking it frees nothing but costs nothing either. Shares alone ({@code tau = 0}) split
 * memory in proportion to shares whatever the VMs do with it; the tax moves memory from idle VMs to active ones.
 *
 * <p>Trade-offs: the policy reacts to free memory, not to demand it cannot see, so a VM that grows faster than
 * balloons inflate still meets hypervisor paging (the hard and low states); and {@code f} comes from sampling
 * (see {@link ActivitySampler}), so a VM that turns active is taxed until the fast average notices.
 */
public final class SharesPolicy implements ReclamationPolicy {
  /** Reclaiming in 64 steps at least keeps the rho ordering fine-grained for a few VMs at little cost. */
  private static final int STEPS = 64;
  private static final long MIN_CHUNK = 16;

  private final double tau;

  /** @param tau the idle memory tax rate, 0 (none) to 0.99 */
  public SharesPolicy(double tau) {
    if (!(tau >= 0 && tau <= 0.99)) {
      throw new IllegalArgumentException("the idle memory tax rate tau must be from 0 to 0.99, got " + tau);
    }
    this.tau = tau;
  }

  public double tau() {
    return tau;
  }

  @Override
  public String name() {
    return "esx";
  }

  @Override
  public long[] allocate(MemoryPressure pressure, List<VmDemand> vms) {
    int n = vms.size();
    long[] targets = new long[n];
    long pending = 0;
    long slack = 0;
    for (int i = 0; i < n; i++) {
      VmDemand d = vms.get(i);
      targets[i] = clamp(d.currentTarget(), d);
      if (!d.pinned()) {
        pending += Math.max(0, d.mappedPages() - targets[i]);
        slack += Math.max(0, targets[i] - d.mappedPages());
      }
    }
    if (pressure.state() != FreeMemoryState.HIGH) {
      long deficit = pressure.targetFreeFrames() - pressure.freeFrames() - pending;
      if (deficit > 0) {
        reclaim(vms, targets, deficit);
      }
    } else {
      long surplus = pressure.freeFrames() - slack - pressure.targetFreeFrames() - pressure.hysteresisFrames();
      if (surplus > 0) {
        giveBack(vms, targets, surplus);
      }
    }
    return targets;
  }

  private void reclaim(List<VmDemand> vms, long[] targets, long deficit) {
    int n = vms.size();
    long[] held = new long[n];
    boolean[] taken = new boolean[n];
    for (int i = 0; i < n; i++) {
      held[i] = Math.min(vms.get(i).mappedPages(), targets[i]);
    }
    long chunk = Math.max(MIN_CHUNK, deficit / STEPS);
    while (deficit > 0) {
      int victim = -1;
      double lowest = Double.MAX_VALUE;
      for (int i = 0; i < n; i++) {
        VmDemand d = vms.get(i);
        if (d.pinned() || held[i] <= d.minPages()) {
          continue;
        }
        double rho = ReclamationPolicy.sharesPerPage(d.shares(), held[i], d.activeFraction(), tau);
        if (rho < lowest) {
          lowest = rho;
          victim = i;
        }
      }
      if (victim < 0) {
        break; // every VM is at its min or pinned: nothing more can be reclaimed by policy
      }
      long take = Math.min(Math.min(chunk, deficit), held[victim] - vms.get(victim).minPages());
      held[victim] -= take;
      deficit -= take;
      taken[victim] = true;
    }
    for (int i = 0; i < n; i++) {
      if (taken[i]) {
        targets[i] = held[i];
      }
    }
  }

  private void giveBack(List<VmDemand> vms, long[] targets, long surplus) {
    int n = vms.size();
    long chunk = Math.max(MIN_CHUNK, surplus / STEPS);
    while (surplus > 0) {
      int receiver = -1;
      double highest = -1;
      for (int i = 0; i < n; i++) {
        VmDemand d = vms.get(i);
        if (d.pinned() || targets[i] >= d.maxPages()) {
          continue;
        }
        double rho = ReclamationPolicy.sharesPerPage(d.shares(), targets[i], d.activeFraction(), tau);
        if (rho > highest) {
          highest = rho;
          receiver = i;
        }
      }
      if (receiver < 0) {
        break;
      }
      long give = Math.min(Math.min(chunk, surplus), vms.get(receiver).maxPages() - targets[receiver]);
      targets[receiver] += give;
      surplus -= give;
    }
  }

  private static long clamp(long target, VmDemand d) {
    return Math.max(d.minPages(), Math.min(d.maxPages(), target));
  }
}
