package org.balloonlab.hypervisor.machine;

import java.util.Collection;

/**
 * The frame table checked against the P2Ms, a full scan that tests run after every step: every MFN is free or
 * owned by exactly the VM whose P2M maps it, each VM's counts of mapped, host-swapped and ballooned PFNs agree
 * with its P2M, its MMU holds no shadow entry for a frame the P2M no longer gives it, and mapped plus free frames
 * make up machine memory. Any break here is a bug that could hand one VM's data to another.
 *
 * <p>Assumes the caller holds the machine's lock.
 */
final class MachineInvariants {
  private MachineInvariants() {}

  /** @throws IllegalStateException describing the first inconsistency */
  static void check(MachineMemory memory, Collection<Vm> vms) {
    long mapped = 0;
    for (Vm vm : vms) {
      mapped += checkVm(memory, vm);
    }
    if (mapped + memory.freeFrames() != memory.frames()) {
      throw new IllegalStateException(mapped + " mapped + " + memory.freeFrames() + " free != " + memory.frames()
          + " frames");
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
    vm.mmu.checkShadowConsistency(p2m::get);
    return vmMapped;
  }
}
