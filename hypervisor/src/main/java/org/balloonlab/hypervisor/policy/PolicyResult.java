package org.balloonlab.hypervisor.policy;

import java.util.List;

/**
 * A policy decision with the reasons behind it: each VM's allocation, what it asked for, its shares per page at
 * that allocation and whether it was held back by its last allocation. The machine applies {@link #allocations()}
 * and keeps the rest to explain the decision ({@link TargetDecision}). Arrays are in the order of the demands.
 *
 * @param allocations each VM's allocation in pages of machine memory
 * @param asks what each VM asked for before memory was divided (its allocation if the policy does not say)
 * @param sharesPerPage each VM's shares per page at its allocation, with the idle memory tax
 * @param heldBack whether each VM had come so close to its last allocation that it asked for more headroom
 * @param plentiful whether free memory was so plentiful that every VM could have its whole size
 */
public record PolicyResult(long[] allocations, long[] asks, double[] sharesPerPage, boolean[] heldBack,
                           boolean plentiful) {

  /**
   * A result whose shares per page are computed from the demands at the allocations, with each demand's rate
   * ({@code defaultTau} where a demand leaves it to the policy).
   */
  public static PolicyResult of(List<VmDemand> vms, long[] allocations, long[] asks, boolean[] heldBack,
                                boolean plentiful, double defaultTau) {
    int n = vms.size();
    if (allocations.length != n || asks.length != n || heldBack.length != n) {
      throw new IllegalArgumentException("a policy result needs one entry per VM: " + n + " VMs, "
          + allocations.length + " allocations");
    }
    double[] rho = new double[n];
    for (int i = 0; i < n; i++) {
      VmDemand d = vms.get(i);
      rho[i] = ReclamationPolicy.sharesPerPage(d.shares(), allocations[i], d.activeFraction(),
          Double.isNaN(d.tau()) ? defaultTau : d.tau());
    }
    return new PolicyResult(allocations, asks, rho, heldBack, plentiful);
  }

  /** The rule that set VM {@code i}'s allocation. */
  public AllocationBound bound(int i, VmDemand d) {
    if (d.pinned()) {
      return AllocationBound.PINNED;
    }
    long a = allocations[i];
    if (a < asks[i]) {
      return a <= d.minPages() ? AllocationBound.MIN : AllocationBound.SHARES;
    }
    return plentiful && a >= d.maxPages() ? AllocationBound.WHOLE_SIZE : AllocationBound.ASK;
  }
}
