package org.balloonlab.hypervisor.machine;

/**
 * Access operation codes of a batch, one byte per access. The numbers are those of the wire's {@code AccessOp},
 * so the transport passes them through unchanged.
 */
public final class AccessOps {
  public static final byte READ = 1;
  public static final byte WRITE = 2;
  /** A read the guest makes to write the page to its own swap; a host page-in it causes is double paging. */
  public static final byte SWAP_OUT_READ = 3;

  private AccessOps() {}

  public static boolean isValid(int op) {
    return op >= READ && op <= SWAP_OUT_READ;
  }
}
