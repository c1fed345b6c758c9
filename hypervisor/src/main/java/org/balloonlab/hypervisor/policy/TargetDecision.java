package org.balloonlab.hypervisor.policy;

import java.util.List;

/**
 * Why one VM's balloon target moved at one policy decision: the target before and after, and every input that
 * decided it (the free-memory state, each VM's allocation, shares, active fraction and shares per page, the idle
 * memory tax, the rule that bounded this VM, whether it was held back). Built by the machine where it applies a
 * {@link PolicyResult}; kept in a bounded history per VM, published as an event, and turned into sentences by
 * {@code balloonlab explain}.
 *
 * @param labTimeNs lab time of the decision, simulated nanoseconds
 * @param vmId the VM whose target moved
 * @param vmName its name
 * @param fromBalloonPages its balloon target before
 * @param toBalloonPages its balloon target after
 * @param fromAllocationPages the allocation its balloon target stood for before (its size minus that target),
 *     pages of machine memory
 * @param toAllocationPages its allocation after
 * @param state the free-memory state the decision was taken in
 * @param freeFrames free machine frames then
 * @param machineFrames machine memory in frames
 * @param targetFreeFrames the free frames the policy aims to keep
 * @param bound the rule that set its allocation
 * @param heldBack whether it had come so close to its last allocation that it asked for more headroom
 * @param vms every VM the decision divided memory among, this one included, in power-on order
 */
public record TargetDecision(long labTimeNs, int vmId, String vmName, long fromBalloonPages, long toBalloonPages,
                             long fromAllocationPages, long toAllocationPages, FreeMemoryState state,
                             long freeFrames, long machineFrames, long targetFreeFrames, AllocationBound bound,
                             boolean heldBack, List<VmShare> vms) {

  /** Decisions kept per VM: enough for a student to follow the last few minutes of a lab. */
  public static final int HISTORY = 32;

  public TargetDecision {
    vms = List.copyOf(vms);
  }

  /**
   * One VM as the decision saw it.
   *
   * @param shares its shares of machine memory
   * @param minPages memory reserved for it
   * @param maxPages its configured size
   * @param mappedPages machine frames it held
   * @param allocationPages the allocation the decision gave it
   * @param activeFraction its estimated active fraction, 0..1
   * @param sharesPerPage its shares per page at that allocation, with the idle memory tax ({@code rho})
   * @param tau the idle memory tax rate that applied to it
   * @param pinned whether an operator had pinned its target
   */
  public record VmShare(int vmId, String vmName, long shares, long minPages, long maxPages, long mappedPages,
                        long allocationPages, double activeFraction, double sharesPerPage, double tau,
                        boolean pinned) {

    /** How many active pages one idle page costs at this VM's rate: {@code k = 1 / (1 - tau)}. */
    public double idleCost() {
      return 1.0 / (1.0 - tau);
    }
  }

  /** This VM's entry in {@link #vms()}. */
  public VmShare self() {
    for (VmShare s : vms) {
      if (s.vmId() == vmId) {
        return s;
      }
    }
    throw new IllegalStateException("a decision about VM " + vmId + " lists no entry for it");
  }

  /** Whether this VM had the lowest shares per page among the VMs the policy could reclaim from. */
  public boolean lowestSharesPerPage() {
    double mine = self().sharesPerPage();
    for (VmShare s : vms) {
      if (s.vmId() != vmId && !s.pinned() && s.allocationPages() > s.minPages() && s.sharesPerPage() < mine) {
        return false;
      }
    }
    return true;
  }

  /** A one-line account, for the event log. */
  public String summary() {
    VmShare me = self();
    return String.format(java.util.Locale.ROOT,
        "balloon target %d -> %d pages (allocation %d -> %d): free memory %s, rule %s%s, f %.2f, rho %.4g, tau %.2f",
        fromBalloonPages, toBalloonPages, fromAllocationPages, toAllocationPages, state.label(), bound.label(),
        heldBack ? " (held back)" : "", me.activeFraction(), me.sharesPerPage(), me.tau());
  }
}
