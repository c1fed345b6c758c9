package org.balloonlab.hypervisor.machine;

import org.balloonlab.hypervisor.mmu.Mmu;
import org.balloonlab.hypervisor.mmu.RadixTable;
import org.balloonlab.hypervisor.mmu.Tlb;

/**
 * Checks an access batch before the machine's lock is taken: every operation known, every PFN inside the VM's
 * P2M, every address space and VPN in range, the kernel's direct map (VPN = PFN) respected and the write values
 * counted. A batch that passes can be applied without a check per entry, and one that fails changes nothing.
 *
 * <p>Immutable and thread-safe: it reads only the batch and the VM's size, which never changes, so transport
 * threads validate in parallel and hold the lock only to apply.
 */
final class BatchValidator {
  private final int maxBatchAccesses;

  BatchValidator(int maxBatchAccesses) {
    this.maxBatchAccesses = maxBatchAccesses;
  }

  /**
   * @param asids with {@code vpns}, the address space and VPN of every entry; both {@code null}: every entry is a
   *     kernel access
   * @throws MachineException INVALID_ARGUMENT naming the first bad entry
   */
  void validate(Vm vm, int count, byte[] ops, int[] pfns, char[] asids, int[] vpns, int writeCount) {
    if ((asids == null) != (vpns == null)) {
      throw MachineException.invalid("a batch carries address spaces and VPNs together, or neither");
    }
    if (count > maxBatchAccesses) {
      throw MachineException.invalid("a batch holds at most " + maxBatchAccesses + " accesses, got " + count);
    }
    int pages = vm.memoryPages();
    int writes = 0;
    for (int i = 0; i < count; i++) {
      byte op = ops[i];
      if (!AccessOps.isValid(op)) {
        throw MachineException.invalid("access " + i + " has unknown operation " + op);
      }
      if (asids != null) {
        validateTranslation(i, op, asids[i], vpns[i], pfns[i]);
      } else if (!AccessOps.isAccess(op)) {
        throw MachineException.invalid("entry " + i + " is page-table event " + op
            + ", which needs an address space and a VPN; the batch carries none");
      }
      int pfn = pfns[i];
      if (pfn < 0 || pfn >= pages) {
        throw MachineException.invalid("access " + i + ": PFN " + pfn + " is out of range 0.." + (pages - 1)
            + " of " + vm);
      }
      if (op == AccessOps.WRITE) {
        writes++;
      }
    }
    if (writes != writeCount) {
      throw MachineException.invalid("the batch has " + writes + " writes but carries " + writeCount
          + " write values");
    }
  }

  private static void validateTranslation(int i, byte op, char asid, int vpn, int pfn) {
    if (AccessOps.isAccess(op)) {
      if (asid == Tlb.GLOBAL_ASID) {
        if (vpn != pfn) {
          throw MachineException.invalid("access " + i + " is a kernel access (address space "
              + Tlb.GLOBAL_ASID + ") whose VPN " + vpn
              + " is not its PFN " + pfn + ": the kernel's direct map has VPN = PFN");
        }
        return;
      }
    }
    if (asid > Mmu.MAX_ASID) {
      throw MachineException.invalid("entry " + i + " names address space " + (int) asid + "; address spaces are 0.."
          + Mmu.MAX_ASID + (AccessOps.isAccess(op) ? ", or " + Tlb.GLOBAL_ASID
          + " for a kernel access" : ""));
    }
    if (vpn < 0 || vpn > RadixTable.MAX_VPN) {
      throw MachineException.invalid("entry " + i + ": VPN " + vpn + " is out of range 0.." + RadixTable.MAX_VPN);
    }
    if ((op == AccessOps.AS_SWITCH || op == AccessOps.AS_RELEASE) && vpn != 0) {
      throw MachineException.invalid("entry " + i + ": an address-space switch or release carries VPN 0, got "
          + vpn);
    }
    if ((op == AccessOps.PT_UNMAP || op == AccessOps.AS_SWITCH || op == AccessOps.GUEST_PAGE_FAULT
        || op == AccessOps.AS_RELEASE) && pfn != 0) {
      throw MachineException.invalid("entry " + i + ": page-table event " + op + " carries PFN 0, got " + pfn);
    }
  }
}
