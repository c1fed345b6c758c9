package org.balloonlab.hypervisor.machine;

import java.util.Collection;
import java.util.SplittableRandom;
import org.balloonlab.hypervisor.event.EventKind;
import org.balloonlab.hypervisor.event.EventLog;
import org.balloonlab.hypervisor.time.CostModel;
import org.balloonlab.swap.SwapDevice;
import org.balloonlab.swap.SwapIoException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hypervisor paging: the host swap file behind machine memory. It makes a frame when none is free by paging out
 * a random page of some VM, pages a VM down by a number of pages when the reclamation policy asks, reads a page
 * back when a guest touches it (a hidden swap-in fault), and restores the reserved memory of a VM paged below its
 * min.
 *
 * <p>Victims are random PFNs (the hypervisor cannot tell which pages a guest values, so it picks blindly, as
 * ESX's swapper does), drawn from the machine's seeded random so a seeded run pages the same pages. A paged-out
 * PFN's P2M entry encodes its host swap slot; its MFN is freed. Reading such a page back because the guest is
 * paging it out itself is <em>double paging</em>, counted apart.
 *
 * <p><b>When the host swap fails.</b> Its file is reserved on disk at start, so it cannot fill up; an I/O error can
 * still happen. The VM whose page could not be written out or read back is then powered off cleanly (its frames
 * and slots released, as any power-off): a page that cannot be read back is lost, and its guest is refused with
 * DATA_LOSS; a page that cannot be written stays in its frame, but that VM can no longer be paged, and its frames
 * are what the machine needed, so it goes with RESOURCE_EXHAUSTED and the VM whose fault asked for a frame runs
 * on in its memory. The device is failed from then on: nothing more is paged out (the policy stops, a batch that
 * memory alone cannot hold is refused up front), pages already out are still read back when touched, and the
 * failure is logged and published ({@link EventKind#HOST_SWAP_FAILED}) once.
 *
 * <p>Its counts go to the VM's counters and the {@link MachineCounters}. Not thread-safe: every method assumes
 * the caller holds the machine's lock.
 */
final class HostPager {
  /** The machine's logger: the hypervisor's log reads as it did when the machine was one class. */
  private static final Logger log = LoggerFactory.getLogger(Machine.class);

  /** Outcomes of {@link #pageOutRandomPage}. */
  private static final int FAILED = 0;
  private static final int WROTE = 1;
  private static final int SHARED_INSTEAD = 2;

  /** Random probes for a mapped PFN before falling back to a scan. */
  private static final int RANDOM_VICTIM_TRIES = 64;

  private final MachineMemory memory;
  private final SwapDevice swap;
  private final SplittableRandom random;
  /** The powered-on VMs, a live view in power-on order, which fixes the order victims are compared in. */
  private final Collection<Vm> vms;
  private final FreeMemoryTracker freeMemory;
  private final CostModel costs;
  private final MachineCounters machineCounters;
  private final VmLifecycle lifecycle;
  private final EventLog events;
  private final PageSharing sharing;
  private boolean failureTold;

  HostPager(MachineMemory memory, SwapDevice swap, SplittableRandom random, VmLifecycle lifecycle,
            FreeMemoryTracker freeMemory, CostModel costs, MachineCounters machineCounters, EventLog events,
            PageSharing sharing) {
    this.sharing = sharing;
    this.lifecycle = lifecycle;
    this.events = events;
    Collection<Vm> vms = lifecycle.vms();
    this.memory = memory;
    this.swap = swap;
    this.random = random;
    this.vms = vms;
    this.freeMemory = freeMemory;
    this.costs = costs;
    this.machineCounters = machineCounters;
  }

  /**
   * A frame for {@code vm}, paging some VM's page out first if none is free; the faulting batch is charged the
   * page-out it waited for. Its content must be overwritten.
   */
  int takeFrame(Vm vm, BatchResult result) {
    int mfn = memory.allocate(vm.id());
    if (mfn >= 0) {
      return mfn;
    }
    freeMemory.update();
    // A page-out frees a frame unless its page was shared with others (paged only when its VM has no private
    // page left), so it may take a few; each one drops a reference or a frame, which bounds the loop.
    long bound = (long) memory.frames() + swap.slots();
    for (long tries = 0; mfn < 0; tries++) {
      if (tries > bound) {
        throw new IllegalStateException("page-outs freed no frame");
      }
      Vm victim = pickVictim();
      int outcome = pageOutRandomPage(victim);
      if (outcome == WROTE) {
        result.hypervisorNs += costs.hostSwapWriteNs();
      } else if (outcome == FAILED && victim == vm) {
        // Its own page could not be written: it was powered off, and its batch ends here.
        vm.requirePoweredOn();
      }
      // A page went out, was shared instead, or the victim was powered off and its frames freed.
      mfn = memory.allocate(vm.id());
    }
    return mfn;
  }

  /**
   * Takes a host-swapped page of {@code vm} out of the swap file before the frame it will live in is found: its
   * slot is free at once and the VM holds one swapped page less, so making that frame may page out into the slot
   * just read, even a page of {@code vm} itself when it is at its host swap reservation. The P2M entry becomes
   * untouched until {@link #pagedIn} or {@link #putBack}.
   *
   * @return the page's content
   * @throws MachineException DATA_LOSS if the host swap cannot read it: the VM has been powered off
   */
  long takeBack(Vm vm, int pfn, int entry) {
    long token;
    try {
      token = swap.pageIn(P2m.swapSlot(entry));
    } catch (SwapIoException e) {
      powerOff(vm, e);
      vm.requirePoweredOn();
      throw e;
    }
    vm.p2m.clear(pfn);
    vm.hostSwappedPages--;
    return token;
  }

  /** Counts a page {@link #takeBack} read as a hidden swap-in fault, once it has its frame. */
  void pagedIn(Vm vm, boolean swapOutRead) {
    VmCounters.Live c = vm.counters;
    c.hostSwapInFaults++;
    c.hostPageIns++;
    machineCounters.hostPageIns++;
    if (swapOutRead) {
      c.doublePaging++;
      machineCounters.doublePaging++;
    }
  }

  /**
   * Returns a page {@link #takeBack} read to host swap, when no frame could be found for it. Nothing to return if
   * the VM was powered off meanwhile (its own page-out failed); if the host swap fails to write it, the VM is
   * powered off.
   */
  void putBack(Vm vm, int pfn, long token) {
    if (!vm.poweredOn) {
      return;
    }
    int slot;
    try {
      slot = swap.pageOut(token);
    } catch (SwapIoException e) {
      powerOff(vm, e);
      return;
    }
    if (slot < 0) {
      throw new IllegalStateException("host swap lost the slot just freed for PFN " + pfn + " of " + vm);
    }
    vm.p2m.setSwapped(pfn, slot);
    vm.hostSwappedPages++;
  }

  /**
   * Pages {@code pages} random pages of {@code vm} out to the host swap file, stopping if it runs out or fails (the
   * VM is then powered off), or when the VM reaches its host swap reservation.
   *
   * @return the pages paged out
   */
  long pageOut(Vm vm, long pages) {
    long paged = 0;
    while (paged < pages && vm.mappedPages > 0 && swap.freeSlots() > 0 && belowSwapReservation(vm)
        && pageOutRandomPage(vm) != FAILED) {
      paged++;
    }
    return paged;
  }

  /**
   * Brings back from host swap the pages of a VM that holds fewer frames than its min. It gets there when the
   * hypervisor paged it before its balloon caught up: the balloon then takes backed pages on top, and pages the
   * guest does not touch would stay in host swap for ever. Reserved memory is the VM's, so the hypervisor reads
   * them back itself as long as frames are free; the guest did not fault, but the disk reads are its memory's,
   * so the caller makes its next batch wait for them.
   *
   * @return the pages read back
   */
  long restoreReservation(Vm vm) {
    long missing = Math.min(vm.minPages - vm.mappedPages, vm.hostSwappedPages);
    if (missing <= 0) {
      return 0;
    }
    long read = 0;
    P2m p2m = vm.p2m;
    for (int pfn = 0, n = p2m.pages(); pfn < n && missing > 0 && memory.freeFrames() > 0; pfn++) {
      int e = p2m.get(pfn);
      if (P2m.isSwapped(e)) {
        long token;
        try {
          token = swap.pageIn(P2m.swapSlot(e));
        } catch (SwapIoException failure) {
          powerOff(vm, failure);
          return read;
        }
        int mfn = memory.allocate(vm.id());
        memory.write(mfn, token);
        p2m.map(pfn, mfn);
        vm.mappedPages++;
        vm.hostSwappedPages--;
        vm.counters.hostPageIns++;
        machineCounters.hostPageIns++;
        missing--;
        read++;
      }
    }
    return read;
  }

  /**
   * Makes a frame when none is free: pages out a random page of the VM furthest above its allocation target or,
   * if none is above (the policy has not spoken yet, or it is manual), of the VM holding the most frames above its
   * min. Reserved memory is taken only when every VM is at its min, which admission control prevents as long as
   * a VM touching beyond its min finds someone above theirs. A VM that holds as many host-swapped pages as it
   * reserved at power-on is never a victim: that is what keeps host swap from filling (the sum of reservations
   * fits the swap file).
   */
  private Vm pickVictim() {
    Vm victim = null;
    long worst = 0;
    for (Vm candidate : vms) {
      long over = candidate.mappedPages - Math.max(candidate.allocationTarget, candidate.minPages);
      if (over > worst && belowSwapReservation(candidate)) {
        worst = over;
        victim = candidate;
      }
    }
    if (victim == null) {
      worst = Long.MIN_VALUE;
      for (Vm candidate : vms) {
        long over = candidate.mappedPages - candidate.minPages;
        if (candidate.mappedPages > 0 && over > worst && belowSwapReservation(candidate)) {
          worst = over;
          victim = candidate;
        }
      }
    }
    if (victim == null) {
      throw new IllegalStateException("no free frame and no VM holds one: frame accounting is broken");
    }
    return victim;
  }

  private static boolean belowSwapReservation(Vm vm) {
    return vm.hostSwappedPages < vm.swapReservation();
  }

  /**
   * Pages a random page of {@code victim} out; a private page whose content the sharing table already holds is
   * shared instead (its frame freed, nothing written).
   *
   * @return {@link #WROTE}, {@link #SHARED_INSTEAD}, or {@link #FAILED} if the host swap failed to write it: the
   *     victim has been powered off
   */
  private int pageOutRandomPage(Vm victim) {
    int pfn = randomMappedPfn(victim);
    P2m p2m = victim.p2m;
    int mfn = p2m.get(pfn);
    boolean shared = memory.owner(mfn) == MachineMemory.SHARED;
    if (!shared && sharing.shareInsteadOfPaging(victim, pfn, mfn)) {
      return SHARED_INSTEAD;
    }
    int slot;
    try {
      slot = swap.pageOut(memory.read(mfn));
    } catch (SwapIoException e) {
      powerOff(victim, e);
      return FAILED;
    }
    if (slot < 0) {
      throw new MachineException(MachineException.Reason.RESOURCE_EXHAUSTED,
          swap.failed() ? "host swap has failed; nothing more can be paged out" : "host swap is full");
    }
    p2m.setSwapped(pfn, slot);
    victim.mmu.p2mChanged(pfn);
    if (shared) {
      // The others keep the frame; it is freed with its last reference.
      sharing.dropReference(victim, mfn);
    } else {
      memory.free(mfn);
    }
    victim.mappedPages--;
    victim.hostSwappedPages++;
    victim.counters.hostPageOuts++;
    machineCounters.hostPageOuts++;
    return WROTE;
  }

  /** Powers {@code vm} off because the host swap failed under one of its pages; says once that paging stopped. */
  private void powerOff(Vm vm, SwapIoException e) {
    String cause = e.getCause() == null ? e.getMessage() : e.getCause().getMessage();
    if (!failureTold) {
      failureTold = true;
      String what = "host swap " + swap.file() + " failed (" + cause + "); hypervisor paging has stopped, VMs whose "
          + "pages it cannot write or read back are powered off";
      log.error(what);
      events.publish(EventKind.HOST_SWAP_FAILED, 0, "", what);
    }
    String why;
    if (e.operation() == SwapIoException.Operation.READ) {
      vm.offCode = MachineException.Reason.DATA_LOSS;
      why = "host swap failed: a page could not be read back and is lost (" + cause + ")";
    } else {
      vm.offCode = MachineException.Reason.RESOURCE_EXHAUSTED;
      why = "host swap failed: a page could not be written, and the VM can no longer be paged (" + cause + ")";
    }
    lifecycle.release(vm, EventKind.VM_POWERED_OFF, why);
  }

  /**
   * A random mapped PFN of {@code vm}, a private one if it has any: paging a shared page frees no frame while
   * others map it. Without sharing every mapped page is private, and the draws are those of a machine without it.
   */
  private boolean isPrivate(int entry) {
    return P2m.isMapped(entry) && memory.owner(entry) != MachineMemory.SHARED;
  }

  private int randomMappedPfn(Vm vm) {
    P2m p2m = vm.p2m;
    int pages = p2m.pages();
    for (int i = 0; i < RANDOM_VICTIM_TRIES; i++) {
      int pfn = random.nextInt(pages);
      if (isPrivate(p2m.get(pfn))) {
        return pfn;
      }
    }
    // Few pages are mapped: scan from a random start so the choice stays unbiased by position.
    int start = random.nextInt(pages);
    for (int i = 0; i < pages; i++) {
      int pfn = (start + i) % pages;
      if (isPrivate(p2m.get(pfn))) {
        return pfn;
      }
    }
    for (int i = 0; i < pages; i++) {
      int pfn = (start + i) % pages;
      if (P2m.isMapped(p2m.get(pfn))) {
        return pfn;
      }
    }
    throw new IllegalStateException(vm + " counts mapped pages but its P2M has none");
  }
}
