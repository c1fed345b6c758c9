package org.balloonlab.hypervisor.machine;

import java.util.Collection;
import org.balloonlab.swap.SwapDevice;

/**
 * The frame table checked against the P2Ms, a full scan that tests run after every step: every MFN is free or
 * owned by exactly the VM whose P2M maps it, each VM's counts of mapped, host-swapped and ballooned PFNs agree
 * with its P2M, its MMU holds no shadow entry for a frame the P2M no longer gives it, and mapped plus free frames
 * make up machine memory; host swap reservations fit the swap file, no VM holds more host-swapped
 * pages than it reserved, the swap file's used slots are the VMs' swapped pages, and no VM's translation tables
 * are over their limit. A frame shared by content ({@link MachineMemory#SHARED}) has exactly as many references
 * in the sharing table as P2M entries map it, each VM's count of shared pages agrees with its P2M, and private
 * frames, shared frames and free frames make up machine memory. Any break here is a bug that could hand one VM's
 * data to another.
 *
 * <p>Assumes the caller holds the machine's lock.
 */
final class MachineInvariants {
  private MachineInvariants() {}

  /**
   * @param swapReserved host swap the machine counts as reserved for the VMs
   * @throws IllegalStateException describing the first inconsistency
   */
  static void check(MachineMemory memory, SwapDevice swap, Collection<Vm> vms, long swapReserved,
                    PageSharing sharing) {
    long mapped = 0;
    long swapped = 0;
    long reserved = 0;
    int[] references = sharing.references() > 0 ? new int[memory.frames()] : null;
    long shared = 0;
    for (Vm vm : vms) {
      long vmShared = countShared(memory, vm, references);
      if (vmShared != vm.sharing.sharedPages) {
        throw new IllegalStateException(vm + " counts " + vm.sharing.sharedPages + " shared pages, its P2M maps "
            + vmShared + " to shared frames");
      }
      shared += vmShared;
      mapped += checkVm(memory, vm) - vmShared;
      swapped += vm.hostSwappedPages;
      reserved += vm.swapReservation();
    }
    if (shared != sharing.references()) {
      throw new IllegalStateException("the VMs map " + shared + " pages to shared frames, the sharing table counts "
          + sharing.references());
    }
    long sharedFrames = 0;
    for (int mfn = 0, n = memory.frames(); mfn < n; mfn++) {
      if (memory.owner(mfn) == MachineMemory.SHARED) {
        sharedFrames++;
        sharing.checkFindable(mfn);
        long counted = sharing.referenceCount(mfn);
        int found = references == null ? 0 : references[mfn];
        if (counted != found || found == 0) {
          throw new IllegalStateException("shared MFN " + mfn + " has " + counted + " references in the table, "
              + found + " P2M entries map it");
        }
      }
    }
    if (sharedFrames != sharing.table().sharedEntries()) {
      throw new IllegalStateException(sharedFrames + " frames are shared, the table holds "
          + sharing.table().sharedEntries() + " shared entries");
    }
    if (mapped + sharedFrames + memory.freeFrames() != memory.frames()) {
      throw new IllegalStateException(mapped + " private + " + sharedFrames + " shared + " + memory.freeFrames()
          + " free != " + memory.frames() + " frames");
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

  /** Counts {@code vm}'s pages mapped to shared frames, adding each to {@code references} by MFN. */
  private static long countShared(MachineMemory memory, Vm vm, int[] references) {
    P2m p2m = vm.p2m;
    long n = 0;
    for (int pfn = 0; pfn < p2m.pages(); pfn++) {
      int e = p2m.get(pfn);
      if (P2m.isMapped(e) && memory.owner(e) == MachineMemory.SHARED) {
        n++;
        if (references != null) {
          references[e]++;
        }
      }
    }
    return n;
  }

  /** Checks one VM; answers the pages its P2M maps. */
  private static long checkVm(MachineMemory memory, Vm vm) {
    P2m p2m = vm.p2m;
    long vmMapped = 0;
    long vmSwapped = 0;
    long vmBallooned = 0;
    for (int pfn = 0; pfn < p2m.pages(); pfn++) {
      int e = p2m.get(pfn);
      if (P2m.isMapped(e)) {
        vmMapped++;
        if (memory.owner(e) != vm.id() && memory.owner(e) != MachineMemory.SHARED) {
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
