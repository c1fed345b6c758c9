package org.balloonlab.hypervisor.machine;

import org.balloonlab.hypervisor.mmu.Mmu;
import org.balloonlab.hypervisor.mmu.Tlb;
import org.balloonlab.hypervisor.policy.ActivitySampler;
import org.balloonlab.hypervisor.time.CostModel;
import org.balloonlab.swap.SwapDevice;

/**
 * The data path (ARCHITECTURE.md section 3): applies a validated batch of a guest's accesses and page-table events
 * in order, looking each PFN up in the VM's P2M. A PFN with no MFN is a hidden fault resolved here: demand-zero
 * (a fresh zeroed frame), swap-in (read back from host swap by the {@link HostPager}) or a touched balloon page
 * (the {@link BalloonBackend} resets the balloon, then demand-zero). A write to a page shared by content breaks
 * copy-on-write ({@link PageSharing}): the writer gets a private copy before its write lands. Each access and event is charged to the VM's
 * {@link Mmu}, each hidden fault to the batch in simulated time, and each PFN the workload touched is marked for
 * the activity sampler: the guest kernel's own reads (swap-out reads, and a batch the guest flags as not its
 * workload's, such as its shutdown audit) are applied and charged alike but are not activity.
 *
 * <p>One batch of thousands of entries is applied under one acquisition of the machine's lock, so the lock is
 * taken a few hundred times a second per VM, not per access; a refused batch changes nothing. Not thread-safe:
 * every method assumes the caller holds the machine's lock.
 */
final class DataPath {
  private final MachineMemory memory;
  private final SwapDevice swap;
  private final CostModel costs;
  private final HostPager pager;
  private final BalloonBackend balloon;
  private final Reclaimer reclaimer;
  private final FreeMemoryTracker freeMemory;
  private final PageSharing sharing;
  /** Told the index of each entry before it is applied; {@code null} but in tests that inject a fault. */
  private java.util.function.IntConsumer faultHook;

  DataPath(MachineMemory memory, SwapDevice swap, CostModel costs, HostPager pager, BalloonBackend balloon,
           Reclaimer reclaimer, FreeMemoryTracker freeMemory, PageSharing sharing) {
    this.sharing = sharing;
    this.memory = memory;
    this.swap = swap;
    this.costs = costs;
    this.pager = pager;
    this.balloon = balloon;
    this.reclaimer = reclaimer;
    this.freeMemory = freeMemory;
  }

  /** Fault injection for tests: {@code hook} sees each entry's index before it is applied and may throw. */
  void injectFault(java.util.function.IntConsumer hook) {
    this.faultHook = hook;
  }

  /**
   * Applies a batch {@link BatchValidator} passed; {@code asids} and {@code vpns} may both be {@code null},
   * making every entry a kernel access.
   *
   * @param workload whether the batch's reads and writes are the workload's, so that the activity sampler counts
   *     them (swap-out reads never count)
   *
   * @throws MachineException FAILED_PRECONDITION if the VM is off; RESOURCE_EXHAUSTED if machine memory and host
   *     swap together could not absorb the batch (checked before anything is applied)
   */
  void apply(Vm vm, boolean workload, int count, byte[] ops, int[] pfns, char[] asids, int[] vpns,
             long[] writeValues, long[] readsOut, BatchResult result) {
    vm.requirePoweredOn();
    result.reset();
    P2m p2m = vm.p2m;
    long room = (long) memory.freeFrames() + swap.freeSlots();
    if (room < count) {
      // Only accessed pages without a frame or a swap slot need room; count them (duplicates included, which errs
      // on the safe side). A host-swapped page brings its slot, freed before its frame is found. Page-table events
      // touch no memory. Since admission reserves host swap for every VM's memory - min, this cannot refuse an
      // admitted VM; it stays as a guard.
      int needing = 0;
      for (int i = 0; i < count; i++) {
        int e = p2m.get(pfns[i]);
        boolean cow = e >= 0 && ops[i] == AccessOps.WRITE && memory.owner(e) == MachineMemory.SHARED;
        if ((e < 0 && !P2m.isSwapped(e) && AccessOps.isAccess(ops[i])) || cow) {
          needing++;
        }
      }
      if (room < needing) {
        throw new MachineException(MachineException.Reason.RESOURCE_EXHAUSTED, (swap.failed()
            ? "machine memory is full and the host swap has failed; " : "machine memory and host swap are both full; ")
            + needing + " more pages cannot be backed");
      }
    }
    Mmu mmu = vm.mmu;
    java.util.function.IntPredicate backed = pfn -> P2m.isMapped(p2m.get(pfn));
    if (!mmu.admits(count, ops, pfns, asids, vpns, backed)) {
      throw new MachineException(MachineException.Reason.RESOURCE_EXHAUSTED, vm + "'s translation tables would "
          + "grow past their limit (--max-translation-tables): " + mmu.chargedTablePages() + " of "
          + mmu.budgetPages() + " table pages are in use and this batch may add "
          + mmu.tablePagesNeeded(count, ops, pfns, asids, vpns, backed) + "; the batch was not applied");
    }
    reclaimer.waitForHostDisk(vm, result);
    sharing.payForScan(vm, result);
    reclaimer.holdIfAboveTarget(vm, result);
    VmCounters.Live c = vm.counters;
    ActivitySampler sampler = vm.sampler;
    int w = 0;
    int r = 0;
    long mmuNs = 0;
    java.util.function.IntConsumer hook = faultHook;
    for (int i = 0; i < count; i++) {
      if (hook != null) {
        hook.accept(i);
      }
      int pfn = pfns[i];
      byte op = ops[i];
      if (op > AccessOps.SWAP_OUT_READ) {
        // A page-table event: it changes what translations cost, never what memory holds.
        mmuNs += mmu.event(op, asids[i], vpns[i], pfn, p2m.get(pfn));
        continue;
      }
      if (workload && op != AccessOps.SWAP_OUT_READ) {
        sampler.touch(pfn);
      }
      int mfn = p2m.get(pfn);
      boolean p2mFaulted = mfn < 0;
      if (p2mFaulted) {
        mfn = resolveHiddenFault(vm, pfn, mfn, op == AccessOps.SWAP_OUT_READ, result);
      } else if (op == AccessOps.WRITE && memory.owner(mfn) == MachineMemory.SHARED) {
        // A write to a page shared by content: copy-on-write gives this VM a private copy first.
        mfn = sharing.breakCopyOnWrite(vm, pfn, mfn, pager, result);
        p2mFaulted = true;
      }
      mmuNs += asids == null ? mmu.access(Tlb.GLOBAL_ASID, pfn, pfn, mfn, p2mFaulted)
          : mmu.access(asids[i], vpns[i], pfn, mfn, p2mFaulted);
      if (op == AccessOps.WRITE) {
        memory.write(mfn, writeValues[w++]);
      } else {
        readsOut[r++] = memory.read(mfn);
      }
    }
    c.accesses += w + r;
    c.writes += w;
    c.reads += r;
    result.hypervisorNs += mmuNs;
    c.hypervisorNs += result.hypervisorNs;
    result.reads = r;
    freeMemory.updateAfterBatch();
  }

  private int resolveHiddenFault(Vm vm, int pfn, int entry, boolean swapOutRead, BatchResult result) {
    VmCounters.Live c = vm.counters;
    long ns = costs.hiddenFaultNs();
    if (P2m.isBallooned(entry)) {
      // The guest touched a page its driver gave away: the hypervisor can no longer trust its view of the
      // balloon, so it drops it (vmw_balloon's RESET) and backs the page afresh.
      c.balloonFaults++;
      balloon.reset(vm, "the guest touched ballooned PFN " + pfn);
      entry = P2m.UNTOUCHED;
    }
    boolean swapped = P2m.isSwapped(entry);
    long token = swapped ? pager.takeBack(vm, pfn, entry) : 0L;
    int mfn;
    try {
      mfn = pager.takeFrame(vm, result);
    } catch (RuntimeException | Error e) {
      if (swapped) {
        pager.putBack(vm, pfn, token);
      }
      throw e;
    }
    if (swapped) {
      memory.write(mfn, token);
      pager.pagedIn(vm, swapOutRead);
      ns += costs.hostSwapReadNs();
    } else {
      memory.write(mfn, 0L);
      ns += costs.zeroFrameNs();
      c.demandZeroFaults++;
      c.framesZeroed++;
    }
    vm.p2m.map(pfn, mfn);
    vm.mmu.p2mChanged(pfn);
    vm.mappedPages++;
    c.hiddenFaults++;
    result.hiddenFaults++;
    result.hypervisorNs += ns;
    return mfn;
  }
}
