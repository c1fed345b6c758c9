package org.balloonlab.domain.kernel;

/**
 * What the balloon driver needs from the guest kernel, and nothing more: allocate a page without retrying, free
 * a page, and memory statistics. The guest OS implements it; the driver never reaches into the OS otherwise.
 *
 * <p>Implementations may run the calls on the guest's own CPU, so the driver must not hold its own locks while
 * calling in (the kernel may call back through {@link OomNotifier}).
 */
public interface BalloonKernel {

  /**
   * Allocates up to {@code count} pages for the balloon without retrying: the kernel may reclaim (page out what
   * it values least) to satisfy the request, but returns fewer pages rather than wait or fail a process.
   * The pages are pinned: the kernel will not touch, evict or reuse them until they are freed.
   *
   * @param out receives the PFNs
   * @return the number of pages allocated, 0 when the kernel has none to give now
   */
  int allocatePages(int[] out, int count);

  /** Returns balloon pages to the kernel's free list. */
  void freePages(int[] pfns, int count);

  /** The kernel's memory statistics now. */
  MemoryStats stats();

  /** Guest memory in pages, which the balloon cap is a fraction of. */
  long totalPages();

  /**
   * Registers the driver's deflate-on-OOM handler: the kernel calls it before it would fail an allocation for
   * lack of memory. At most one handler; a second call replaces the first.
   */
  void registerOomNotifier(OomNotifier notifier);
}
