package org.balloonlab.guest.os;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.balloonlab.domain.GuestStatus;
import org.balloonlab.domain.kernel.MemoryStats;
import org.balloonlab.domain.kernel.OomNotifier;
import org.balloonlab.swap.SwapDevice;
import org.balloonlab.swap.SwapIoException;

/**
 * A simulated guest operating system: processes with page tables, a free list of guest-physical pages, clock
 * page replacement, and a swap device of its own.
 *
 * <p><b>The access path.</b> A process touches (VPN, read or write). A present page is used at once and its
 * accessed bit set, as the MMU would. A missing or swapped-out page is a <em>true fault</em>: the OS takes a
 * PFN from the free list (or evicts a victim to get one), fills it (zeroes for a first touch, the swapped
 * content otherwise) and maps it. Every write stores a token naming (VM, asid, VPN, version); every read is
 * checked against the token the guest expects (see {@link Token}), so a page lost or mixed up anywhere below
 * (hypervisor paging, ballooning) shows up as an integrity or isolation violation.
 *
 * <p><b>Replacement: the clock algorithm.</b> A hand sweeps guest-physical pages; a page whose accessed bit is
 * set gets a second chance (the bit is cleared), the first page found with the bit clear is the victim. It
 * approximates LRU with one bit per page, which is what the guest's hardware offers. A victim that was never
 * written holds zeroes and is dropped without I/O; any other is read (the one access that waits for the
 * hypervisor's answer) and written to the guest's swap device. Like Linux, the OS reclaims a cluster of 32
 * victims when its free list runs dry, so the victims' reads share one round trip. That read is where double
 * paging arises: if the hypervisor had paged the same PFN out, it must page it back in only for the guest to page
 * it out again.
 *
 * <p><b>What the hypervisor is told.</b> Besides each access's PFN, the OS tells its memory which address space and
 * VPN a process's access translated, and every change to its translation in order with the accesses: a switch
 * to another process's address space when it first touches memory in its slice, a true fault before it is
 * handled, a map once the new page is filled (as a kernel sets the entry after filling the page), an unmap when a
 * page is evicted or dropped, the release of an address space when its process exits. Its own accesses (filling
 * a page, reading a victim, the final audit) go through its direct map. See {@link PhysicalMemory}.
 *
 * <p><b>Boot.</b> At construction the OS pins its boot memory ({@link GuestBoot}): per-page kernel metadata sized by
 * configured memory ({@link BootStructures}) and the OS image of its {@code os_kind} ({@link ContentImage}). Neither
 * is ever a victim of the clock nor given to the balloon. {@link #boot()} writes them, so they are backed by machine
 * frames before any process runs.
 *
 * <p><b>Files and data sets.</b> A process may work on files through the {@link PageCache}, which the reclaim
 * shrinks (dropping clean pages, writing dirty ones back) before it pages any process memory out. A process may
 * also read a data set mapped at the start of its address space: a first touch fills the page with the set's
 * content token, read from disk ({@link #attachDataSet}).
 *
 * <p><b>Sizing.</b> Per-page state lives in primitive arrays: a free stack, a reverse map (PFN to asid and VPN)
 * and an accessed bitmap over PFNs; page tables and versions per process over VPNs. Not thread-safe: the
 * vCPU thread runs the OS.
 */
public final class GuestOs implements AutoCloseable {
  private static final int FREE = FrameTable.FREE;
  /** Reverse-map mark of a page chosen as a victim and being paged out: {@code VICTIM_BASE - asid}. */
  private static final int VICTIM_BASE = -2;
  /** Reverse-map mark of a page pinned by the balloon driver: the clock skips it, nothing maps it. */
  private static final int BALLOON = Integer.MIN_VALUE;
  /** Reverse-map mark of a page the kernel pinned at boot (boot structures, OS image). */
  private static final int KERNEL = Integer.MIN_VALUE + 1;
  /** Reverse-map mark of a page-cache page; the reverse map's VPN holds its file page. */
  private static final int CACHE = Integer.MIN_VALUE + 2;
  /** Pages reclaimed at once when the free list runs dry, as Linux reclaims SWAP_CLUSTER_MAX pages. */
  static final int RECLAIM_CLUSTER = 32;

  private final int vmId;
  private final int memoryPages;
  private final PhysicalMemory memory;
  private final SwapDevice swap;
  private final GuestCosts costs;
  private final GuestCounters counters;
  private final FrameTable frames;
  private int clockHand;
  /** The address space the vCPU runs in now; -1 before the first access. */
  private int runningAsid = -1;
  private final int[] victimPfns = new int[RECLAIM_CLUSTER];
  private final long[] victimExpected = new long[RECLAIM_CLUSTER];
  private final long[] victimValues = new long[RECLAIM_CLUSTER];
  private final List<GuestProcess> processes = new ArrayList<>();
  private long ownNs;
  private int balloonPages;
  private volatile OomNotifier oomNotifier;
  private final int[] oomPages = new int[RECLAIM_CLUSTER];
  private final GuestBoot bootConfig;
  private final int bootPages;
  private boolean booted;
  private final PageCache pageCache;

  /**
   * @param vmId the VM id the hypervisor gave this guest, which its tokens carry
   * @param memoryPages guest-physical memory in pages
   * @param memory the hypervisor-backed memory
   * @param swap the guest's own swap device
   * @param counters where the OS counts; the same object the memory's {@link #checkerFor checker} reports to
   */
  public GuestOs(int vmId, int memoryPages, PhysicalMemory memory, SwapDevice swap, GuestCosts costs,
                 GuestCounters counters) {
    this(vmId, memoryPages, memory, swap, costs, counters, GuestBoot.NONE);
  }

  /**
   * A guest that pins its boot memory as {@code boot} says; {@link #boot()} writes it.
   *
   * @throws IllegalArgumentException if the boot memory would leave less than half of memory to the rest
   */
  public GuestOs(int vmId, int memoryPages, PhysicalMemory memory, SwapDevice swap, GuestCosts costs,
                 GuestCounters counters, GuestBoot boot) {
    if (memoryPages <= 0) {
      throw new IllegalArgumentException("a guest needs at least one page of memory");
    }
    if (boot.pinnedPages(memoryPages) > memoryPages / 2) {
      throw new IllegalArgumentException("boot structures and OS image (" + boot.pinnedPages(memoryPages)
          + " pages) would take more than half of the guest's " + memoryPages + " pages");
    }
    this.vmId = vmId;
    this.memoryPages = memoryPages;
    this.memory = memory;
    this.swap = swap;
    this.costs = costs;
    this.counters = counters;
    this.frames = new FrameTable(memoryPages);
    this.bootConfig = boot;
    this.bootPages = BootStructures.pagesFor(memoryPages, boot.metadataRatio());
    // PFNs 0 .. pinned-1, taken off the free list before anything can allocate: boot structures, then the image.
    int pinned = bootPages + boot.imagePages();
    for (int i = 0; i < pinned; i++) {
      frames.take(KERNEL, i);
    }
    counters.bootPages = bootPages;
    counters.imagePages = boot.imagePages();
    this.pageCache = new PageCache(vmId, memory, costs, counters, frames, CACHE, this::allocatePage,
        ns -> ownNs += ns);
  }

  /**
   * Writes the boot structures and the OS image, once, as the kernel's own accesses (not the workload's): call on
   * the vCPU before the first process runs.
   */
  public void boot() {
    if (booted) {
      return;
    }
    booted = true;
    memory.kernelOnly(true);
    for (int pfn = 0; pfn < bootPages + bootConfig.imagePages(); pfn++) {
      memory.write(pfn, kernelToken(pfn));
    }
    memory.kernelOnly(false);
  }

  /** What pinned page {@code pfn} holds: a boot-structure page, or a page of the OS image. */
  private long kernelToken(int pfn) {
    return pfn < bootPages ? BootStructures.token(vmId, pfn)
        : ContentImage.imageToken(bootConfig.osKind(), pfn - bootPages);
  }

  /** Reads page {@code index} of the OS image (at PFN boot pages + index), checked like every read. */
  public void readImagePage(int index) {
    if (index < 0 || index >= bootConfig.imagePages()) {
      throw new IllegalArgumentException("image page " + index + " is outside the image");
    }
    memory.read(bootPages + index, kernelToken(bootPages + index));
  }

  /** The checker to hand to a {@link PhysicalMemory}: it sorts mismatches into integrity and isolation. */
  public static PhysicalMemory.ReadChecker checkerFor(int vmId, GuestCounters counters) {
    return (pfn, expected, actual) -> {
      if (Token.belongsToAnotherVm(actual, vmId)) {
        counters.isolationViolations.incrementAndGet();
      } else {
        counters.integrityViolations.incrementAndGet();
      }
    };
  }

  public GuestCounters counters() {
    return counters;
  }

  /** Starts a process with an address space of {@code virtualPages} pages. */
  public GuestProcess spawn(String name, int virtualPages) {
    if (processes.size() > Token.MAX_ASID) {
      throw new IllegalStateException("a guest runs at most " + (Token.MAX_ASID + 1) + " processes");
    }
    if (virtualPages <= 0 || virtualPages > Token.MAX_VPN + 1) {
      throw new IllegalArgumentException("a process address space must be 1 to " + (Token.MAX_VPN + 1)
          + " pages, got " + virtualPages);
    }
    GuestProcess p = new GuestProcess(processes.size(), name, virtualPages);
    processes.add(p);
    return p;
  }

  /** Gives {@code process} files of {@code pages} in the page cache, for {@link #fileAccess}. Once, before it runs. */
  public void attachFiles(GuestProcess process, int pages) {
    pageCache.attach(process, pages);
  }

  /**
   * Maps data set {@code name} over the first {@code pages} of {@code process}'s address space: a page never written
   * there holds the set's content token. Once, before it runs.
   */
  public void attachDataSet(GuestProcess process, String name, int pages) {
    if (pages < 0 || pages > process.pageTable.length || pages > Token.MAX_CONTENT_INDEX + 1) {
      throw new IllegalArgumentException("a data set of " + pages + " pages does not fit the address space of "
          + process.pageTable.length + " pages");
    }
    process.dataSetHash = Token.hashName(name);
    process.dataPages = pages;
  }

  /** One read or write by {@code process} of page {@code page} of its files, through the page cache. */
  public void fileAccess(GuestProcess process, int page, boolean write) {
    pageCache.access(process, page, write);
  }

  public List<GuestProcess> processes() {
    return Collections.unmodifiableList(processes);
  }

  /**
   * One access by {@code process} to {@code vpn}.
   *
   * @throws GuestOutOfMemoryException if a fault needs a page and neither memory nor swap can give one
   */
  public void access(GuestProcess process, int vpn, boolean write) {
    GuestCounters c = counters;
    int asid = process.asid();
    if (asid != runningAsid) {
      runningAsid = asid;
      memory.pageTableEvent(PageTableEvent.SWITCH, asid, 0, 0);
    }
    int pte = process.pageTable[vpn];
    if (pte < 0) {
      pte = trueFault(process, vpn, pte);
    }
    frames.touch(pte);
    c.accesses++;
    ownNs += costs.memoryAccessNs();
    if (write) {
      char v = Token.nextVersion(process.versions[vpn]);
      process.versions[vpn] = v;
      memory.write(asid, vpn, pte, Token.of(vmId, asid, vpn, v));
      c.writes++;
    } else {
      memory.read(asid, vpn, pte, expected(process, vpn));
      c.reads++;
    }
  }

  private long expected(GuestProcess process, int vpn) {
    char v = process.versions[vpn];
    if (v == 0 && vpn < process.dataPages) {
      return ContentImage.dataSetToken(process.dataSetHash, vpn);
    }
    return Token.of(vmId, process.asid(), vpn, v);
  }

  private int trueFault(GuestProcess process, int vpn, int pte) {
    GuestCounters c = counters;
    c.trueFaults++;
    ownNs += costs.pageFaultNs();
    memory.pageTableEvent(PageTableEvent.FAULT, process.asid(), vpn, 0);
    int pfn;
    if (pte <= GuestProcess.SWAPPED_BASE) {
      // Read the page back first: its slot is then free for the reclaim that may have to make room.
      long token = swap.pageIn(GuestProcess.SWAPPED_BASE - pte);
      try {
        pfn = allocatePage();
      } catch (GuestOutOfMemoryException e) {
        // A failed reclaim wrote nothing to swap, so the slot just freed is still there to put the page back.
        process.pageTable[vpn] = GuestProcess.SWAPPED_BASE - swap.pageOut(token);
        throw e;
      }
      ownNs += costs.swapReadNs();
      if (token != expected(process, vpn)) {
        c.integrityViolations.incrementAndGet();
      }
      memory.write(pfn, token);
      c.majorFaults++;
      c.pageIns++;
    } else {
      pfn = allocatePage();
      // A first touch (or a dropped clean page): the kernel clears the page before mapping it, or, in a data set,
      // reads the set's page from disk.
      long initial = expected(process, vpn);
      if (initial != 0) {
        ownNs += costs.swapReadNs();
        c.dataSetFills++;
      }
      memory.write(pfn, initial);
      c.minorFaults++;
    }
    process.pageTable[vpn] = pfn;
    memory.pageTableEvent(PageTableEvent.MAP, process.asid(), vpn, pfn);
    process.residentPages++;
    frames.rmapAsid[pfn] = process.asid();
    frames.rmapVpn[pfn] = vpn;
    return pfn;
  }

  /** A free PFN, reclaiming a cluster of victims with the clock algorithm if none is free. */
  private int allocatePage() {
    if (frames.freeCount == 0) {
      try {
        reclaim(RECLAIM_CLUSTER);
      } catch (GuestOutOfMemoryException e) {
        if (!deflateOnOom()) {
          throw e;
        }
      }
    }
    return frames.pop();
  }

  /** Asks the balloon driver for pages back before failing; true if it gave some. */
  private boolean deflateOnOom() {
    if (oomNotifier == null) {
      return false;
    }
    int n = oomNotifier.releaseForOom(oomPages, oomPages.length);
    for (int i = 0; i < n; i++) {
      unpin(oomPages[i]);
    }
    counters.oomDeflations += n;
    return n > 0;
  }

  // ------------------------------------------------------------ the balloon driver's kernel interface

  /**
   * Allocates up to {@code count} pages for the balloon without retrying: free pages first, then one reclaim
   * round at a time (the guest pages out what its clock thinks least valuable). Stops early rather than fail.
   */
  public int allocateBalloonPages(int[] out, int count) {
    int got = 0;
    while (got < count) {
      if (frames.freeCount == 0) {
        try {
          reclaim(RECLAIM_CLUSTER);
        } catch (GuestOutOfMemoryException e) {
          break;
        }
        if (frames.freeCount == 0) {
          break;
        }
      }
      int pfn = frames.pop();
      frames.rmapAsid[pfn] = BALLOON;
      balloonPages++;
      out[got++] = pfn;
    }
    if (got > 0) {
      // Accesses to these pages may still be queued (a process that just exited, a clean victim just dropped).
      // They must reach the hypervisor before the driver locks the pages on its own channel, or the hypervisor
      // would see the guest touch a ballooned page.
      memory.flush();
    }
    return got;
  }

  /** Returns balloon pages to the free list. */
  public void freeBalloonPages(int[] pfns, int count) {
    for (int i = 0; i < count; i++) {
      if (frames.rmapAsid[pfns[i]] != BALLOON) {
        throw new IllegalArgumentException("PFN " + pfns[i] + " is not a balloon page");
      }
      unpin(pfns[i]);
    }
  }

  private void unpin(int pfn) {
    balloonPages--;
    frames.free(pfn);
  }

  /** Registers the balloon driver's deflate-on-OOM handler. */
  public void registerOomNotifier(OomNotifier notifier) {
    this.oomNotifier = notifier;
  }

  /** The kernel's memory statistics, in virtio-balloon's terms. */
  public MemoryStats memoryStats() {
    return new MemoryStats(counters.pageIns, counters.pageOuts, counters.majorFaults, counters.minorFaults,
        frames.freeCount, memoryPages, frames.freeCount + reclaimablePages());
  }

  private long reclaimablePages() {
    long resident = 0;
    for (GuestProcess p : processes) {
      resident += p.residentPages;
    }
    // Clean or not, a cache page can be given up (a dirty one after its write-back).
    return Math.min(resident, (long) swap.freeSlots()) + pageCache.cachedPages();
  }

  public int balloonPages() {
    return balloonPages;
  }

  /**
   * Frees up to {@code wanted} pages. The clock hand sweeps guest-physical pages: a page whose accessed bit is
   * set loses it and is passed over, the others become victims. Victims holding data are read from the
   * hypervisor in one batch and written to the guest's swap; victims never written are dropped.
   */
  private void reclaim(int wanted) {
    if (pageCache.cachedPages() > 0) {
      // The page cache goes first: clean pages are dropped, dirty ones written back, before any process page.
      pageCache.shrink(wanted - frames.freeCount);
      if (frames.freeCount >= wanted) {
        return;
      }
    }
    int victims = 0;
    // A dirty victim needs a swap slot: never pick more than there are, so the write-out cannot fail halfway.
    int swappable = Math.min(wanted, swap.freeSlots());
    boolean swapFull = false;
    // Two sweeps at most: the first may only clear accessed bits.
    for (int steps = 0; steps < 2 * memoryPages && frames.freeCount + victims < wanted; steps++) {
      int pfn = clockHand;
      clockHand = clockHand + 1 == memoryPages ? 0 : clockHand + 1;
      if (frames.rmapAsid[pfn] < 0) {
        continue; // free, pinned by the balloon, or already chosen in this round
      }
      if (frames.testAndClearAccessed(pfn)) {
        continue;
      }
      GuestProcess owner = processes.get(frames.rmapAsid[pfn]);
      int vpn = frames.rmapVpn[pfn];
      if (owner.versions[vpn] == 0) {
        // Never written: zeroes, or a data set's page that can be read from disk again.
        owner.pageTable[vpn] = GuestProcess.UNMAPPED;
        memory.pageTableEvent(PageTableEvent.UNMAP, owner.asid(), vpn, 0);
        counters.zeroPagesDropped++;
        release(owner, pfn);
        continue;
      }
      if (victims == swappable) {
        swapFull = true;
        continue; // only clean pages can go now
      }
      // Unmapped before it is read and written out, so the process cannot change it meanwhile.
      memory.pageTableEvent(PageTableEvent.UNMAP, owner.asid(), vpn, 0);
      victimPfns[victims] = pfn;
      victimExpected[victims] = expected(owner, vpn);
      victims++;
      // Taken off the reverse map's live set so the sweep cannot pick it twice; owner and VPN are kept.
      frames.rmapAsid[pfn] = VICTIM_BASE - owner.asid();
    }
    if (victims == 0) {
      if (frames.freeCount > 0) {
        return;
      }
      throw new GuestOutOfMemoryException(swapFull
          ? "guest swap is full (" + swap.slots() + " pages) and no clean page can be dropped"
          : "no page of guest memory can be evicted");
    }
    memory.readForSwapOut(victimPfns, victimExpected, victims, victimValues);
    for (int i = 0; i < victims; i++) {
      int pfn = victimPfns[i];
      GuestProcess owner = processes.get(VICTIM_BASE - frames.rmapAsid[pfn]);
      int slot = swap.pageOut(victimValues[i]);
      if (slot < 0) {
        throw new IllegalStateException("guest swap filled up during a reclaim that reserved its slots");
      }
      ownNs += costs.swapWriteNs();
      owner.pageTable[frames.rmapVpn[pfn]] = GuestProcess.SWAPPED_BASE - slot;
      counters.pageOuts++;
      release(owner, pfn);
    }
  }

  private void release(GuestProcess owner, int pfn) {
    owner.residentPages--;
    frames.free(pfn);
  }

  /** Ends a process: its pages return to the free list and its swap slots are released. */
  public void exit(GuestProcess process) {
    if (process.exited) {
      return;
    }
    for (int vpn = 0; vpn < process.pageTable.length; vpn++) {
      int pte = process.pageTable[vpn];
      if (pte >= 0) {
        frames.free(pte);
      } else if (pte <= GuestProcess.SWAPPED_BASE) {
        swap.release(GuestProcess.SWAPPED_BASE - pte);
      }
      process.pageTable[vpn] = GuestProcess.UNMAPPED;
    }
    process.residentPages = 0;
    process.exited = true;
    memory.pageTableEvent(PageTableEvent.RELEASE, process.asid(), 0, 0);
    if (runningAsid == process.asid()) {
      runningAsid = -1;
    }
  }

  /**
   * Reads back every resident and swapped page of every live process and checks it: the end-of-run audit.
   * Resident pages are read through the hypervisor; swapped ones from the guest's swap.
   */
  public void verifyAll() {
    // The audit is the kernel's, not the workload's: the hypervisor must not take it for activity.
    memory.kernelOnly(true);
    if (booted) {
      for (int pfn = 0; pfn < bootPages + bootConfig.imagePages(); pfn++) {
        memory.read(pfn, kernelToken(pfn));
      }
    }
    pageCache.verifyAll();
    for (GuestProcess p : processes) {
      if (p.exited) {
        continue;
      }
      for (int vpn = 0; vpn < p.pageTable.length; vpn++) {
        int pte = p.pageTable[vpn];
        if (pte >= 0) {
          memory.read(pte, expected(p, vpn));
        } else if (pte <= GuestProcess.SWAPPED_BASE) {
          if (swap.peek(GuestProcess.SWAPPED_BASE - pte) != expected(p, vpn)) {
            counters.integrityViolations.incrementAndGet();
          }
        }
      }
    }
    memory.flush();
    memory.kernelOnly(false);
  }

  /** Adds simulated time the guest spent outside memory accesses (idle, for instance). */
  public void chargeIdle(long ns) {
    ownNs += ns;
  }

  public void countContextSwitch() {
    counters.contextSwitches++;
  }

  /** The guest's simulated clock: its own work plus what the hypervisor charged it, as of the last answer. */
  public long simulatedNs() {
    return ownNs + memory.hypervisorNs();
  }

  /**
   * The guest's deterministic clock: its own work plus the hypervisor's charges as of the last drain
   * ({@link PhysicalMemory#drainedHypervisorNs()}). It lags {@link #simulatedNs()} by the charges of batches in
   * flight, and equals it right after a flush; decisions taken on it (when a quantum ends, when a process wakes)
   * do not depend on when the hypervisor's answers arrive.
   */
  public long clockNs() {
    return ownNs + memory.drainedHypervisorNs();
  }

  /** What the guest knows of itself now. Call from the vCPU thread. */
  public GuestStatus status(String workload, boolean workloadDone) {
    GuestCounters c = counters;
    return new GuestStatus(simulatedNs(), c.accesses, c.trueFaults, c.majorFaults, c.minorFaults, c.pageOuts,
        c.pageIns, c.integrityViolations(), c.isolationViolations(), frames.freeCount, memoryPages, swap.usedSlots(),
        c.contextSwitches, workload, workloadDone);
  }

  public int memoryPages() {
    return memoryPages;
  }

  public int freePages() {
    return frames.freeCount;
  }

  public int swapUsedPages() {
    return swap.usedSlots();
  }

  /**
   * The first I/O failure of the guest's swap, or {@code null}. A failed swap takes no more page-outs, and the
   * guest cannot run on without it: its vCPU stops with this failure.
   */
  public SwapIoException swapFailure() {
    return swap.failure();
  }

  PageCache pageCache() { // for tests
    return pageCache;
  }

  public PhysicalMemory memory() {
    return memory;
  }

  @Override
  public void close() {
    swap.close();
  }
}
