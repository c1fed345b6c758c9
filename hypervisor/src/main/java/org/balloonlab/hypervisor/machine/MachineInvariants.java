package org.balloonlab.hypervisor.machine;

import java.util.Collection;
import org.balloonlab.swap.SwapDevice;

/**
 * The frame table checked against the P2Ms, a full scan that tests run after every step: every MFN is free or
 * owned by exactly the VM whose P2M maps it, each VM's counts of mapped, host-swapped and ballooned PFNs agree
 * with its P2M, its MMU holds no shadow entry for a frame the P2M no longer gives it, and mapped plus free frames
 * make up machine memory; host swap reservations fit the swap file, no VM holds more host-swapped
 * pages than it reserved, the swap file's used slots are the VMs' swapped pages, and no VM's translation tables
 * are over their limit. Any break here is a bug that could hand one VM's data to another.
 *
 * <p>Assumes the caller holds the machine's lock.
 */
final class MachineInvariants {
  private MachineInvariants() {}

  /**
   * @param swapReserved host swap the machine counts as reserved for the VMs
   * @throws IllegalStateException describing the first inconsistency
   */
  static void check(MachineMemory memory, SwapDevice swap, Collection<Vm> vms, long swapReserved) {
    long mapped = 0;
    long swapped = 0;
    long reserved = 0;
    for (Vm vm : vms) {
      mapped += checkVm(memory, vm);
      swapped += vm.hostSwappedPages;
      reserved += vm.swapReservation();
    }
    if (mapped + memory.freeFrames() != memory.frames()) {
      throw new IllegalStateException(mapped + " mapped + " + memory.freeFrames() + " free != " + memory.frames()
          + " frames");
    }
    // Admission control: host swap cannot run out for an admitted VM.
    if (reserved != swapReserved || reserved > swap.slots()) {
      throw new IllegalStateException("the VMs reserve " + reserved + " pages of host swap, the machine counts "
          + swapReserved + ", the swap file holds " + swap.slots());
    }
    if (swapped != swap.usedSlots()) {
      throw new IllegalStateException("the VMs hold " + swapped + " host-swapped pages, the swap file "
          + swap.usedSlots() + " used slots");
    }
  }

  /** Checks one VM; answers the frames its P2M maps. */
  private static long checkVm(MachineMemory memory, Vm vm) {
    P2m p2m = vm.p2m;
    long vmMapped = 0;
    long vmSwapped = 0;
    long vmBallooned = 0;
    for (int pfn = 0; pfn < p2m.pages(); pfn++) {
      int e = p2m.get(pfn);
      if (P2m.isMapped(e)) {
        vmMapped++;
        if (memory.owner(e) != vm.id()) {
          throw new IllegalStateException(vm + " maps PFN " + pfn + " to MFN " + e + " owned by VM "
              + memory.owner(e));
        }
      } else if (P2m.isSwapped(e)) {
        vmSwapped++;
      } else if (P2m.isBallooned(e)) {
        vmBallooned++;
      }
    }
    if (vmBallooned != vm.balloon.size) {
      throw new IllegalStateException(vm + " counts a balloon of " + vm.balloon.size + " pages, its P2M holds "
          + vmBallooned);
    }
    if (vmMapped != vm.mappedPages || vmSwapped != vm.hostSwappedPages) {
      throw new IllegalStateException(vm + " counts " + vm.mappedPages + " mapped and " + vm.hostSwappedPages
          + " swapped, its P2M holds " + vmMapped + " and " + vmSwapped);
    }
    if (vm.hostSwappedPages > vm.swapReservation()) {
      throw new IllegalStateException(vm + " holds " + vm.hostSwappedPages + " host-swapped pages, more than the "
          + vm.swapReservation() + " reserved for it");
    }
    if (vm.mmu.chargedTablePages() > vm.mmu.budgetPages()) {
      throw new IllegalStateException(vm + " holds " + vm.mmu.chargedTablePages() + " translation-table pages, "
          + "more than its limit of " + vm.mmu.budgetPages());
    }
    vm.mmu.checkShadowConsistency(p2m::get);
    return vmMapped;
  }
}
