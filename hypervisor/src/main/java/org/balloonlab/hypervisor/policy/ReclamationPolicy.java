package org.balloonlab.hypervisor.policy;

import java.util.List;

/**
 * Decides how much machine memory each VM may hold. The hypervisor calls it once a policy period and turns its
 * answer into mechanisms: the balloon target of a VM is its configured size minus its allocation, and a VM that
 * stays above its allocation while its balloon cannot deliver (or while the machine is in the hard or low state)
 * is paged down to it by the hypervisor. A policy only decides; it touches no memory, so another one (for
 * example one driven by the guests' own statistics) slots in without changing the mechanisms.
 */
public interface ReclamationPolicy {
  /** The policy's name as flags and status show it. */
  String name();

  /**
   * Answers each VM's allocation target in pages of machine memory, in the order of {@code vms}. Every answer
   * must lie within the VM's {@code minPages..maxPages}; a pinned VM must keep its {@code currentTarget}.
   */
  long[] allocate(MemoryPressure pressure, List<VmDemand> vms);

  /**
   * The allocation with the reasons behind it, for explaining the decision. By default only the allocations are
   * known: each VM is taken to have got what it asked for; a policy that knows more says so.
   */
  default PolicyResult decide(MemoryPressure pressure, List<VmDemand> vms) {
    long[] allocations = allocate(pressure, vms);
    return PolicyResult.of(vms, allocations, allocations.clone(), new boolean[vms.size()], false, 0);
  }

  /**
   * Whether the hypervisor turns this policy's allocations into balloon targets and pages VMs to them. A policy
   * that leaves targets to the operator answers {@code false}: the machine then only tracks its free-memory state.
   */
  default boolean reclaims() {
    return true;
  }

  /**
   * The ESX policy's shares-per-page of a VM with the idle memory tax: {@code S / (P * (f + k(1 - f)))},
   * {@code k = 1 / (1 - tau)}. The higher, the more a VM's claim to each page it holds; memory is reclaimed
   * from the lowest first.
   */
  static double sharesPerPage(long shares, long pages, double activeFraction, double tau) {
    double k = 1.0 / (1.0 - tau);
    double f = Math.max(0, Math.min(1, activeFraction));
    return shares / (Math.max(1, pages) * (f + k * (1 - f)));
  }
}
