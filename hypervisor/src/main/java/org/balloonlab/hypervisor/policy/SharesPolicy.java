package org.balloonlab.hypervisor.policy;

import java.util.List;
import org.balloonlab.domain.PolicyNames;

/**
 * ESX's allocation policy (Waldspurger, OSDI 2002): proportional shares with an idle memory tax.
 *
 * <p>A VM's claim to the memory it holds is its shares per page, {@code rho = S / (P * (f + k(1 - f)))} with
 * {@code k = 1 / (1 - tau)}: a VM that uses only a fraction {@code f} of its pages is charged {@code k} times
 * more for its idle ones, so with {@code tau = 0.75} an idle page costs four active ones.
 *
 * <p>Each decision divides the memory the machine can give, machine memory minus the free memory it aims to keep
 * ({@code high + hysteresis}), among the VMs. A VM first asks for what it holds plus some headroom (an eighth of
 * its size) to grow into; one that has come within half that headroom of its last allocation, so that its
 * balloon or the hypervisor's paging may be holding it back, asks for twice the headroom. Asks grow with use a
 * step at a time, so an allocation never swings between a VM's use and its whole size. When free memory is
 * above its target by more than the hysteresis band, every VM asks for its whole size, so that balloons deflate
 * as far as shares allow once pressure has fallen; then the free memory beyond the band kept free is lent to
 * the active VMs held back at that split, above their shares, until pressure returns. If the asks add up to
 * more than the machine can give, memory is taken from the VM with the lowest
 * {@code rho} (with {@code P} its allocation), a chunk at a time, recomputing {@code rho} after each chunk
 * (min-funding revocation), never below a VM's {@code min}. A pinned VM keeps its target and the rest share what
 * it leaves.
 *
 * <p>The allocations are absolute, not steps: when an idle VM holds memory an active one is asking for, the
 * allocations move even with free memory to spare, and the machine's mechanisms (the hypervisor deflates
 * balloons in the high state but inflates them only below it) turn them into memory moving from one to the other
 * as soon as the active VM's growth pulls free memory down. Shares alone ({@code tau = 0}) split memory in
 * proportion to shares whatever the VMs do with it; the tax moves it from idle VMs to active ones. The rate is
 * the policy's own unless a VM's demand carries another ({@link VmDemand#tau()}): the machine's rate changed at
 * run time, or a rate of the VM's own.
 *
 * <p>Trade-offs: the policy sees demand only as growth into free memory, so a VM that grows faster than balloons
 * inflate still meets hypervisor paging (the hard and low states); and {@code f} comes from sampling (see
 * {@link ActivitySampler}), so a VM that turns active is taxed until the fast average notices.
 */
public final class SharesPolicy implements ReclamationPolicy {
  /** Reclaiming in 64 steps at least keeps the rho ordering fine-grained for a few VMs at little cost. */
  private static final int STEPS = 64;
  private static final long MIN_CHUNK = 16;
  /** A VM this far below its allocation is not held back by it: it asks for what it uses plus this much. */
  private static final int HEADROOM_DIVISOR = 8;

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
    return PolicyNames.ESX;
  }

  @Override
  public long[] allocate(MemoryPressure pressure, List<VmDemand> vms) {
    int n = vms.size();
    long[] allocations = new long[n];
    long available = pressure.frames() - pressure.targetFreeFrames();
    boolean plentiful = plentiful(pressure);
    long asked = 0;
    for (int i = 0; i < n; i++) {
      VmDemand d = vms.get(i);
      if (d.pinned()) {
        allocations[i] = clamp(d.currentTarget(), d);
        available -= allocations[i];
        continue;
      }
      allocations[i] = ask(d, plentiful);
      asked += allocations[i];
    }
    long excess = asked - Math.max(0, available);
    if (excess > 0) {
      revoke(vms, allocations, excess);
    }
    if (plentiful) {
      lendFreeMemory(pressure, vms, allocations);
    }
    return allocations;
  }

  /**
   * With memory to spare, lends the free frames above the band kept free to the VMs held back at their shares
   * split: those whose memory in use (mapped, or in host swap) has come within half a headroom of it. Without
   * this, memory the split promises a VM that does not use it (an idle VM's pages in host swap count as its
   * allotment) stays free while a busy VM is ballooned and pages. The spare is shared out by shares times active
   * fraction, so an idle VM borrows nothing, and a borrower's allocation becomes what it maps plus its part,
   * never less than its split. Nothing is revoked for it: when pressure returns the next decision is the split
   * again, and min-funding revocation takes the lent pages back first, since the borrower then holds the most
   * pages per share.
   */
  private static void lendFreeMemory(MemoryPressure pressure, List<VmDemand> vms, long[] allocations) {
    int n = vms.size();
    long spare = pressure.freeFrames() - pressure.targetFreeFrames() - pressure.hysteresisFrames();
    double[] weight = new double[n];
    long[] lent = new long[n];
    double total = 0;
    for (int i = 0; i < n; i++) {
      VmDemand d = vms.get(i);
      // Held back by this decision's split (not by the last allocation, as heldBack(d) asks): what it uses,
      // mapped or in host swap, has come within half a headroom of it.
      boolean heldBack = d.mappedPages() + d.hostSwappedPages() + headroom(d) / 2 >= allocations[i];
      if (!d.pinned() && heldBack && d.mappedPages() < d.maxPages()) {
        weight[i] = d.shares() * Math.max(0, d.activeFraction());
        total += weight[i];
      }
    }
    // A few rounds hand what a borrower at its size cannot take to the others.
    for (int round = 0; round < n && spare > 0 && total > 0; round++) {
      long given = 0;
      double open = 0;
      for (int i = 0; i < n; i++) {
        if (weight[i] <= 0) {
          continue;
        }
        VmDemand d = vms.get(i);
        long room = d.maxPages() - d.mappedPages() - lent[i];
        long part = Math.min(room, (long) (spare * (weight[i] / total)));
        lent[i] += part;
        given += part;
        if (lent[i] < d.maxPages() - d.mappedPages()) {
          open += weight[i];
        } else {
          weight[i] = 0;
        }
      }
      spare -= given;
      total = open;
      if (given == 0) {
        break;
      }
    }
    for (int i = 0; i < n; i++) {
      if (lent[i] > 0) {
        allocations[i] = Math.max(allocations[i], vms.get(i).mappedPages() + lent[i]);
      }
    }
  }

  /** The allocation with the reasons behind it (what each VM asked, whether it was held back), to explain it. */
  @Override
  public PolicyResult decide(MemoryPressure pressure, List<VmDemand> vms) {
    boolean plentiful = plentiful(pressure);
    int n = vms.size();
    long[] asks = new long[n];
    boolean[] heldBack = new boolean[n];
    for (int i = 0; i < n; i++) {
      VmDemand d = vms.get(i);
      asks[i] = d.pinned() ? clamp(d.currentTarget(), d) : ask(d, plentiful);
      heldBack[i] = !d.pinned() && heldBack(d);
    }
    return PolicyResult.of(vms, allocate(pressure, vms), asks, heldBack, plentiful, tau);
  }

  /** With memory to spare, every VM may have all it is configured with, and balloons deflate toward shares. */
  private static boolean plentiful(MemoryPressure pressure) {
    return pressure.state() == FreeMemoryState.HIGH
        && pressure.freeFrames() > pressure.targetFreeFrames() + pressure.hysteresisFrames();
  }

  private static long headroom(VmDemand d) {
    return Math.max(MIN_CHUNK, d.maxPages() / HEADROOM_DIVISOR);
  }

  /** Whether a VM has come so close to its last allocation that the allocation may be holding it back. */
  private static boolean heldBack(VmDemand d) {
    return d.mappedPages() + headroom(d) / 2 >= d.currentTarget();
  }

  /** What a VM asks for before memory is divided. */
  private static long ask(VmDemand d, boolean plentiful) {
    long headroom = headroom(d);
    return clamp(plentiful ? d.maxPages() : d.mappedPages() + (heldBack(d) ? 2 * headroom : headroom), d);
  }

  /** Min-funding revocation: takes {@code excess} pages, lowest shares per page first. */
  private void revoke(List<VmDemand> vms, long[] allocations, long excess) {
    int n = vms.size();
    long chunk = Math.max(MIN_CHUNK, excess / STEPS);
    while (excess > 0) {
      int victim = -1;
      double lowest = Double.MAX_VALUE;
      for (int i = 0; i < n; i++) {
        VmDemand d = vms.get(i);
        if (d.pinned() || allocations[i] <= d.minPages()) {
          continue;
        }
        double rho = ReclamationPolicy.sharesPerPage(d.shares(), allocations[i], d.activeFraction(),
            Double.isNaN(d.tau()) ? tau : d.tau());
        if (rho < lowest) {
          lowest = rho;
          victim = i;
        }
      }
      if (victim < 0) {
        return; // every VM is at its min or pinned: what is left is overcommitted reservations
      }
      long take = Math.min(Math.min(chunk, excess), allocations[victim] - vms.get(victim).minPages());
      allocations[victim] -= take;
      excess -= take;
    }
  }

  private static long clamp(long target, VmDemand d) {
    return Math.max(d.minPages(), Math.min(d.maxPages(), target));
  }
}
