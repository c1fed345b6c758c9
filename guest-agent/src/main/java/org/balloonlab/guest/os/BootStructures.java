package org.balloonlab.guest.os;

/**
 * The guest kernel's per-page metadata, sized at boot by configured memory: Linux's {@code struct page} array,
 * 64 bytes for each 4 KiB page, about 1.6 % of memory ({@link #DEFAULT_RATIO}).
 *
 * <p>The kernel allocates it before anything else and touches every page of it, so it is backed by machine frames
 * from the start. It is unreclaimable: the guest's clock never pages it out and the balloon driver can never
 * allocate it. Its size follows the memory the guest was <em>booted</em> with, not what it has after ballooning: a
 * guest booted with 512 MiB and ballooned to 256 MiB keeps 8 MiB of metadata where one booted with 256 MiB keeps 4,
 * and has that much less for its processes. That is the explanation Waldspurger (OSDI 2002) gives of the balloon's
 * overhead in his Fig. 2.
 *
 * <p>Each page holds a per-VM content token ({@link Token#kernelData}), so it is never shared with another VM's.
 */
public final class BootStructures {
  /** Linux's ratio: a 64-byte {@code struct page} per 4096-byte page (1.5625 %). */
  public static final double DEFAULT_RATIO = 64.0 / 4096.0;

  private BootStructures() {}

  /** Pages of metadata for {@code memoryPages} of configured memory at {@code ratio}, rounded up. */
  public static int pagesFor(long memoryPages, double ratio) {
    if (ratio <= 0) {
      return 0;
    }
    return (int) Math.ceil(memoryPages * ratio);
  }

  /** What boot-structure page {@code index} of VM {@code vm} holds. */
  static long token(int vm, int index) {
    return Token.kernelData(vm, index);
  }
}
