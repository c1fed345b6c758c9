package org.balloonlab.hypervisor.machine;

import org.balloonlab.hypervisor.mmu.Mmu;

/**
 * Access operation codes of a batch, one byte per access. The numbers are those of the wire's {@code AccessOp},
 * so the transport passes them through unchanged.
 */
public final class AccessOps {
  public static final byte READ = 1;
  public static final byte WRITE = 2;
  /** A read the guest makes to write the page to its own swap; a host page-in it causes is double paging. */
  public static final byte SWAP_OUT_READ = 3;
  /** Page-table events, carried in the same ordered stream as the accesses (see {@link Mmu}). */
  public static final byte PT_MAP = Mmu.PT_MAP;
  public static final byte PT_UNMAP = Mmu.PT_UNMAP;
  public static final byte PT_REMAP = Mmu.PT_REMAP;
  public static final byte AS_SWITCH = Mmu.AS_SWITCH;
  public static final byte GUEST_PAGE_FAULT = Mmu.GUEST_PAGE_FAULT;
  public static final byte AS_RELEASE = Mmu.AS_RELEASE;

  private AccessOps() {}

  public static boolean isValid(int op) {
    return op >= READ && op <= AS_RELEASE;
  }

  /** Whether {@code op} touches memory (a read or write) rather than being a page-table event. */
  public static boolean isAccess(int op) {
    return op >= READ && op <= SWAP_OUT_READ;
  }
}
