package org.balloonlab.guest.os;

/**
 * A change the guest OS makes to its address translation, which it tells the hypervisor in the order it happens
 * among its memory accesses. In shadow mode each is a trapped operation the hypervisor must see to keep its
 * shadow tables right; in nested mode the hypervisor only uses them to keep its TLB model right.
 */
public enum PageTableEvent {
  /** A page-table entry became present: (asid, VPN) maps a PFN. */
  MAP,
  /** A present entry was cleared: (asid, VPN) maps nothing (its page was evicted or dropped). */
  UNMAP,
  /** A present entry now points at another PFN. */
  REMAP,
  /** The vCPU switched to another process's address space (a CR3 write). */
  SWITCH,
  /** A process touched a VPN its page table cannot translate: a true fault, before the kernel handles it. */
  FAULT,
  /** A process exited and its address space was torn down. */
  RELEASE
}
