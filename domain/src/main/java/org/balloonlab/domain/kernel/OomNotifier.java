package org.balloonlab.domain.kernel;

/** Called by the guest kernel when it is about to fail an allocation for lack of memory. */
@FunctionalInterface
public interface OomNotifier {
  /**
   * Gives balloon pages back so the kernel can go on. The driver tells the hypervisor first (the pages get
   * frames again on their next touch), then hands the PFNs over; the kernel puts them on its free list.
   *
   * @param out receives the PFNs given back
   * @return the number given back, 0 if the balloon is empty
   */
  int releaseForOom(int[] out, int wanted);
}
