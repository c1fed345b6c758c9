package org.balloonlab.guest.os;

import java.util.Arrays;

/**
 * The guest's page cache: guest-physical pages that hold file content, for workloads that read and write files
 * (a dbench-like load).
 *
 * <p><b>Files.</b> Each process that works on files gets a range of file pages of its own ({@link #createFile});
 * the guest's disk holds every file page's content as a token ({@code disk}, 8 bytes a file page, as the swap file
 * holds 8 bytes a slot). A file page's content is a per-VM content token ({@link Token#file}) whose version counts
 * the writes to it, so every read, from the cache or from the disk, is checked against what the guest wrote.
 *
 * <p><b>Hits, misses, write-back.</b> A read or write of a cached page is a hit and costs one memory access. A miss
 * takes a free page (reclaiming if it must), reads the page from disk (a guest disk read in the cost model; a hole
 * never written costs none) and caches it. A write dirties the page; a dirty page goes back to disk before its
 * frame is reused.
 *
 * <p><b>Under pressure.</b> The guest's reclaim ({@link GuestOs}) shrinks the cache before it pages out anonymous
 * memory: a clock over file pages gives a recently used page a second chance, drops a clean one at once, and
 * writes a dirty one back (one batched read of its content, then a disk write) before dropping it. Balloon
 * inflation reclaims through the same path, so a guest under a balloon gives up its cache first, as Linux does.
 *
 * <p><b>Sizing.</b> Per file page: its PFN ({@code int}), version ({@code char}), disk token ({@code long}) and a
 * dirty bit; the arrays grow when a file is created. Not thread-safe: the vCPU thread runs it.
 */
final class PageCache {
  private static final int NONE = -1;
  private static final int WRITEBACK_CLUSTER = GuestOs.RECLAIM_CLUSTER;

  private final int vmId;
  private final PhysicalMemory memory;
  private final GuestCosts costs;
  private final GuestCounters counters;
  private final FrameTable frames;
  /** Takes a free PFN, reclaiming if none is free: the guest OS's allocator. */
  private final java.util.function.IntSupplier allocate;
  /** Charges the guest simulated time. */
  private final java.util.function.LongConsumer charge;
  /** The reverse-map mark of a cache page. */
  private final int mark;
  private int filePages;
  private int[] pfnOf = new int[0];
  private char[] versions = new char[0];
  private long[] disk = new long[0];
  private long[] dirty = new long[0];
  private int cached;
  private int hand;
  private final int[] wbPfns = new int[WRITEBACK_CLUSTER];
  private final int[] wbPages = new int[WRITEBACK_CLUSTER];
  private final long[] wbExpected = new long[WRITEBACK_CLUSTER];
  private final long[] wbValues = new long[WRITEBACK_CLUSTER];

  PageCache(int vmId, PhysicalMemory memory, GuestCosts costs, GuestCounters counters, FrameTable frames,
            int mark, java.util.function.IntSupplier allocate, java.util.function.LongConsumer charge) {
    this.mark = mark;
    this.allocate = allocate;
    this.charge = charge;
    this.vmId = vmId;
    this.memory = memory;
    this.costs = costs;
    this.counters = counters;
    this.frames = frames;
  }

  /** Creates a file of {@code pages} and answers its first file page. */
  int createFile(int pages) {
    if (pages <= 0 || (long) filePages + pages > Token.MAX_CONTENT_INDEX + 1L) {
      throw new IllegalArgumentException("a guest's files hold 1 to " + (Token.MAX_CONTENT_INDEX + 1)
          + " pages in all; " + filePages + " are taken and " + pages + " more were asked for");
    }
    int base = filePages;
    filePages += pages;
    pfnOf = Arrays.copyOf(pfnOf, filePages);
    Arrays.fill(pfnOf, base, filePages, NONE);
    versions = Arrays.copyOf(versions, filePages);
    disk = Arrays.copyOf(disk, filePages);
    dirty = Arrays.copyOf(dirty, (filePages + 63) >>> 6);
    return base;
  }

  /** Gives {@code process} a file of {@code pages}; once, before it runs. */
  void attach(GuestProcess process, int pages) {
    if (process.fileBase >= 0) {
      throw new IllegalStateException("process " + process.name() + " already has its files");
    }
    process.fileBase = createFile(pages);
    process.filePages = pages;
  }

  /** One read or write by {@code process} of page {@code page} of its file: a memory access of the guest's. */
  void access(GuestProcess process, int page, boolean write) {
    if (page < 0 || page >= process.filePages) {
      throw new IllegalArgumentException("file page " + page + " is outside " + process.name() + "'s "
          + process.filePages + " file pages");
    }
    counters.accesses++;
    charge.accept(costs.memoryAccessNs());
    if (write) {
      counters.writes++;
    } else {
      counters.reads++;
    }
    access(process.fileBase + page, write);
  }

  int filePages() {
    return filePages;
  }

  int cachedPages() {
    return cached;
  }

  private long expected(int page) {
    return Token.file(vmId, page, versions[page]);
  }

  /** One read or write of file page {@code page} through the cache. */
  void access(int page, boolean write) {
    if (page < 0 || page >= filePages) {
      throw new IllegalArgumentException("file page " + page + " is outside the guest's " + filePages + " file pages");
    }
    int pfn = pfnOf[page];
    if (pfn == NONE) {
      counters.cacheMisses++;
      pfn = allocate.getAsInt();
      long token = disk[page];
      if (token != 0) {
        charge.accept(costs.swapReadNs());
        counters.cacheDiskReads++;
      }
      if (token != expected(page)) {
        counters.integrityViolations.incrementAndGet();
      }
      // The kernel fills the page from disk (or clears it, for a hole) before the copy to the process.
      memory.write(pfn, token);
      pfnOf[page] = pfn;
      frames.rmapAsid[pfn] = mark;
      frames.rmapVpn[pfn] = page;
      cached++;
      counters.pageCachePages = cached;
    } else {
      counters.cacheHits++;
    }
    frames.touch(pfn);
    if (write) {
      char v = Token.nextVersion(versions[page]);
      versions[page] = v;
      memory.write(pfn, Token.file(vmId, page, v));
      dirty[page >>> 6] |= 1L << page;
    } else {
      memory.read(pfn, expected(page));
    }
  }

  /**
   * Frees up to {@code wanted} cached pages: clean ones are dropped, dirty ones written back first. Recently used
   * pages get a second chance, so two sweeps at most. Answers the pages freed.
   */
  int shrink(int wanted) {
    int freed = 0;
    int wb = 0;
    for (long steps = 0; steps < 2L * filePages && freed + wb < wanted && cached > 0; steps++) {
      int page = hand;
      hand = hand + 1 == filePages ? 0 : hand + 1;
      if (hand == 0 && wb > 0) {
        // A wrap: what is queued goes out now, so the second sweep cannot queue a page twice.
        freed += writeBackAndDrop(wb);
        wb = 0;
      }
      int pfn = pfnOf[page];
      if (pfn == NONE || frames.testAndClearAccessed(pfn)) {
        continue;
      }
      if ((dirty[page >>> 6] & (1L << page)) == 0) {
        drop(page, pfn);
        freed++;
        continue;
      }
      wbPfns[wb] = pfn;
      wbPages[wb] = page;
      wbExpected[wb] = expected(page);
      wb++;
      if (wb == WRITEBACK_CLUSTER) {
        freed += writeBackAndDrop(wb);
        wb = 0;
      }
    }
    if (wb > 0) {
      freed += writeBackAndDrop(wb);
    }
    return freed;
  }

  /** Reads {@code n} dirty pages in one batch, writes them to disk, then drops them. */
  private int writeBackAndDrop(int n) {
    memory.readForSwapOut(wbPfns, wbExpected, n, wbValues);
    for (int i = 0; i < n; i++) {
      int page = wbPages[i];
      disk[page] = wbValues[i];
      dirty[page >>> 6] &= ~(1L << page);
      charge.accept(costs.swapWriteNs());
      counters.cacheWritebacks++;
      drop(page, wbPfns[i]);
    }
    return n;
  }

  private void drop(int page, int pfn) {
    pfnOf[page] = NONE;
    cached--;
    counters.pageCachePages = cached;
    counters.cacheDrops++;
    frames.free(pfn);
  }

  /** The audit: every cached page read back through the hypervisor, every other one checked on disk. */
  void verifyAll() {
    for (int page = 0; page < filePages; page++) {
      if (pfnOf[page] != NONE) {
        memory.read(pfnOf[page], expected(page));
      } else if (disk[page] != expected(page)) {
        counters.integrityViolations.incrementAndGet();
      }
    }
  }

  /** Whether file page {@code page} is in the cache; for tests. */
  boolean isCached(int page) {
    return pfnOf[page] != NONE;
  }

  /** Whether file page {@code page} is cached and dirty; for tests. */
  boolean isDirty(int page) {
    return (dirty[page >>> 6] & (1L << page)) != 0;
  }

  /** What the guest's disk holds for file page {@code page}; for tests. */
  long onDisk(int page) {
    return disk[page];
  }
}
