package org.balloonlab.hypervisor.machine;

import java.util.Collection;
import java.util.SplittableRandom;
import java.util.function.IntFunction;
import java.util.function.LongUnaryOperator;
import org.balloonlab.hypervisor.event.EventLog;
import org.balloonlab.hypervisor.time.CostModel;

/**
 * Content-based page sharing (ESX, Waldspurger, OSDI 2002, section 4; docs/page-sharing.md).
 *
 * <p><b>The scanner.</b> At each tick of simulated time ({@link #tick}) it picks pages of every powered-on VM at
 * random, from its own seeded random so that a seeded run scans the same pages, at most
 * {@link SharingSettings#pagesPerVmPerSecond()} per VM and {@link SharingSettings#maxPagesPerSecond()} across the
 * machine. A scanned page's content token is hashed (64 bits) and looked up in the {@link SharingTable}:
 * <ul>
 *   <li>a shared frame of that hash whose content is equal (the full comparison) gets one more reference: the
 *       page is mapped to it copy-on-write and its own frame is freed;
 *   <li>a hint of that hash is checked again (its page may have changed or gone: then it is dropped); if its page
 *       still holds equal content, that page's frame becomes the shared frame and both pages map it;
 *   <li>nothing matches: the page is recorded as a hint, except a zero page, whose frame becomes the shared zero
 *       frame at once, so every zero page of the machine ends on one frame.
 * </ul>
 * A hash match whose content differs (a collision) shares nothing and is counted.
 *
 * <p><b>Copy-on-write.</b> A shared frame's owner is {@link MachineMemory#SHARED}. A write to a page mapped to
 * it is a hidden fault ({@link #breakCopyOnWrite}): the writer gets a private copy in a new frame (charged the
 * hidden fault and {@link CostModel#copyFrameNs()}), and the others keep the old content. The last reference
 * takes the frame back as its own without a copy.
 *
 * <p><b>References go</b> when a shared page is ballooned, paged out by the hypervisor or its VM powered off
 * ({@link #dropReference}); the frame is freed with its last reference. Before hypervisor paging writes a victim
 * to host swap, {@link #shareInsteadOfPaging} tries to share it.
 *
 * <p><b>The scanner's cost.</b> Each page scanned costs {@link CostModel#shareScanNs()} of CPU time, charged to the
 * VM whose page it is: a pending charge that the VM's next batch pays ({@link #payForScan}), as the host swap
 * disk's time is, so nothing reads a clock and the lab clock's runs stay reproducible.
 *
 * <p><b>Events.</b> After each tick {@link SharingEvents} tells the operators, at a bounded rate, when the table
 * reaches its cap and when it has room again, and how each VM's sharing progresses.
 *
 * <p>Not thread-safe: every method assumes the caller holds the machine's lock.
 */
final class PageSharing {
  /** Mixed into the machine's seed, so the scanner's random sequence is its own. */
  private static final long SEED_MIX = 0x5_4a_2e_d0_0dL;
  private static final long NS_PER_S = 1_000_000_000L;
  /** Simulated time one tick may bring at most, so a long pause does not turn into one burst of scanning. */
  private static final long MAX_TICK_NS = NS_PER_S;

  private final SharingSettings settings;
  private final MachineMemory memory;
  /** The powered-on VM of an id, or {@code null}: hints name VMs by id. Set once the VMs' registry exists. */
  private IntFunction<Vm> findVm = id -> null;
  private final CostModel costs;
  private final SplittableRandom random;
  private final SharingTable table;
  private LongUnaryOperator hash = PageSharing::mix;
  /** Guest pages mapped to shared frames, over all VMs. */
  private long references;
  private long cowBreaks;
  private long scanned;
  private long collisions;
  private long sharedBeforePageOut;
  private long hintsEvicted;
  /** New entries refused: the table at its cap and holding no hint to drop. */
  private long refused;
  /** Simulated time the VMs' batches paid for the scanner's work. */
  private long scanPaidNs;
  /** Simulated time the ticks brought, uncapped: on the lab clock, lab time. The events' clock. */
  private long clockNs;
  private final SharingEvents notices;
  /** Budgets carried between ticks, in page-nanoseconds. */
  private long vmCredit;
  private long machineCredit;

  PageSharing(SharingSettings settings, MachineMemory memory, CostModel costs, long seed, EventLog events) {
    this(settings, memory, costs, seed, new SharingTable(memory.frames()), events);
  }

  PageSharing(SharingSettings settings, MachineMemory memory, CostModel costs, long seed,
              SharingTable table, EventLog events) {
    this.notices = new SharingEvents(events);
    this.settings = settings;
    this.memory = memory;
    this.costs = costs;
    this.random = new SplittableRandom(seed ^ SEED_MIX);
    this.table = table;
  }

  /** The 64-bit hash of a content token: MurmurHash3's finalizer, a bijection that spreads every bit. */
  static long mix(long token) {
    long h = token;
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    h *= 0xc4ceb9fe1a85ec53L;
    h ^= h >>> 33;
    return h;
  }

  /** Tells the sharing where to find a hinted page's VM by id. */
  void findVmsWith(IntFunction<Vm> registry) {
    this.findVm = registry;
  }

  /** For tests: a hash of one's own, such as one that makes different tokens collide. */
  void hashForTests(LongUnaryOperator h) {
    this.hash = h;
  }

  boolean enabled() {
    return settings.enabled();
  }

  SharingSettings settings() {
    return settings;
  }

  SharingTable table() {
    return table;
  }

  // ---------------------------------------------------------------- the scanner

  /**
   * Scans the pages {@code elapsedNs} of simulated time allow, at random, in the VMs' power-on order, charges each
   * VM the scanner's work on its pages (paid by its next batch), then publishes what is worth an event.
   *
   * @return the pages scanned
   */
  long tick(Collection<Vm> vms, long elapsedNs) {
    if (!settings.enabled() || elapsedNs <= 0) {
      return 0;
    }
    clockNs += elapsedNs;
    long done = vms.isEmpty() ? 0 : scan(vms, elapsedNs);
    notices.afterTick(clockNs, vms, this, hintsEvicted, refused);
    return done;
  }

  private long scan(Collection<Vm> vms, long elapsedNs) {
    long ns = Math.min(elapsedNs, MAX_TICK_NS);
    vmCredit = Math.min(vmCredit + settings.pagesPerVmPerSecond() * ns, settings.pagesPerVmPerSecond() * NS_PER_S);
    machineCredit = Math.min(machineCredit + settings.maxPagesPerSecond() * ns,
        settings.maxPagesPerSecond() * NS_PER_S);
    long perVm = vmCredit / NS_PER_S;
    long machinePages = machineCredit / NS_PER_S;
    int n = vms.size();
    long done = 0;
    int i = 0;
    for (Vm vm : vms.toArray(new Vm[0])) {
      long quota = Math.min(perVm, machinePages / n + (i++ < machinePages % n ? 1 : 0));
      int pages = vm.memoryPages();
      long k = 0;
      for (; k < quota && vm.poweredOn; k++) {
        scanPage(vm, random.nextInt(pages));
      }
      vm.sharing.scanPendingNs += k * costs.shareScanNs();
      done += quota;
    }
    vmCredit -= perVm * NS_PER_S;
    machineCredit -= done * NS_PER_S;
    return done;
  }

  /**
   * Looks at one page: shares it if its content is in the table, else records it.
   *
   * @return whether the page is now mapped to a shared frame with at least one other reference
   */
  boolean scanPage(Vm vm, int pfn) {
    vm.sharing.scanned++;
    scanned++;
    int mfn = vm.p2m.get(pfn);
    if (!P2m.isMapped(mfn) || memory.owner(mfn) != vm.id()) {
      return false;
    }
    long token = memory.read(mfn);
    return match(vm, pfn, mfn, token, hash.applyAsLong(token), true);
  }

  /**
   * Shares a victim of hypervisor paging instead of writing it to host swap, if its content is in the table
   * already (a shared frame or a hint that still holds it). Frees its frame when it does.
   */
  boolean shareInsteadOfPaging(Vm vm, int pfn, int mfn) {
    if (!settings.enabled() || !settings.shareBeforePaging() || memory.owner(mfn) != vm.id()) {
      return false;
    }
    long token = memory.read(mfn);
    if (match(vm, pfn, mfn, token, hash.applyAsLong(token), false)) {
      vm.sharing.sharedBeforePageOut++;
      sharedBeforePageOut++;
      return true;
    }
    return false;
  }

  private boolean match(Vm vm, int pfn, int mfn, long token, long h, boolean record) {
    int s = table.home(h);
    while (!table.empty(s)) {
      if (table.hash(s) != h) {
        s = table.next(s);
        continue;
      }
      if (table.isShared(s)) {
        int shared = table.sharedMfn(s);
        if (memory.read(shared) == token) {
          addReference(s, shared, vm, pfn, mfn);
          return true;
        }
        collisions++;
        s = table.next(s);
        continue;
      }
      int hintVm = table.hintVm(s);
      int hintPfn = table.hintPfn(s);
      if (hintVm == vm.id() && hintPfn == pfn) {
        return false;
      }
      Vm other = findVm.apply(hintVm);
      int otherMfn = other == null || hintPfn >= other.memoryPages() ? -1 : other.p2m.get(hintPfn);
      if (otherMfn < 0 || memory.owner(otherMfn) != hintVm || hash.applyAsLong(memory.read(otherMfn)) != h) {
        // The hinted page changed or went since it was scanned: drop the hint; the slot now holds the next entry.
        table.remove(s);
        if (other != null) {
          other.sharing.hints--;
        }
        continue;
      }
      if (memory.read(otherMfn) != token) {
        collisions++;
        s = table.next(s);
        continue;
      }
      memory.makeShared(otherMfn);
      table.hintToShared(s, otherMfn, 1);
      other.sharing.hints--;
      other.sharing.sharedPages++;
      references++;
      addReference(s, otherMfn, vm, pfn, mfn);
      return true;
    }
    if (!record) {
      return false;
    }
    if (token == 0L) {
      // The first zero page becomes the machine's zero frame; the next ones find it.
      if (table.putShared(h, mfn, 1) >= 0) {
        memory.makeShared(mfn);
        vm.sharing.sharedPages++;
        references++;
      } else {
        refused++;
      }
    } else if (table.putHint(h, vm.id(), pfn) >= 0) {
      vm.sharing.hints++;
    } else {
      refused++;
    }
    int evicted = table.takeEvictedVm();
    if (evicted != 0) {
      hintsEvicted++;
      Vm owner = findVm.apply(evicted);
      if (owner != null) {
        owner.sharing.hints--;
      }
    }
    return false;
  }

  private void addReference(int slot, int shared, Vm vm, int pfn, int mfn) {
    table.setCount(slot, table.count(slot) + 1);
    vm.p2m.map(pfn, shared);
    vm.mmu.p2mChanged(pfn);
    memory.free(mfn);
    vm.sharing.sharedPages++;
    references++;
  }

  // ---------------------------------------------------------------- copy-on-write and references

  /**
   * A write to {@code vm}'s PFN mapped to the shared frame {@code shared}: gives the writer a private copy, a
   * hidden fault charged to {@code result}. The caller writes the new content into the frame answered.
   */
  int breakCopyOnWrite(Vm vm, int pfn, int shared, HostPager pager, BatchResult result) {
    int s = slotOf(shared);
    long count = table.count(s);
    long ns = costs.hiddenFaultNs();
    int mfn;
    vm.sharing.sharedPages--;
    references--;
    if (count == 1) {
      // The last reference: the frame becomes the writer's own, nothing to copy.
      table.remove(s);
      memory.makePrivate(shared, vm.id());
      mfn = shared;
    } else {
      long token = memory.read(shared);
      table.setCount(s, count - 1);
      // Unmapped while a frame is found, so that paging cannot pick this very page as its victim.
      vm.p2m.clear(pfn);
      vm.mappedPages--;
      mfn = pager.takeFrame(vm, result);
      memory.write(mfn, token);
      vm.p2m.map(pfn, mfn);
      vm.mappedPages++;
      ns += costs.copyFrameNs();
    }
    vm.mmu.p2mChanged(pfn);
    vm.sharing.cowBreaks++;
    cowBreaks++;
    vm.counters.hiddenFaults++;
    result.hiddenFaults++;
    result.hypervisorNs += ns;
    return mfn;
  }

  /**
   * {@code vm} stops mapping the shared frame {@code mfn} (ballooned, paged out, powered off); the caller changes
   * its P2M entry and mapped count.
   *
   * @return whether that was the last reference, and the frame was freed
   */
  boolean dropReference(Vm vm, int mfn) {
    int s = slotOf(mfn);
    long count = table.count(s) - 1;
    vm.sharing.sharedPages--;
    references--;
    if (count == 0) {
      table.remove(s);
      memory.free(mfn);
      return true;
    }
    table.setCount(s, count);
    return false;
  }

  /**
   * The VM's batch pays the scanner's work on its pages since its last batch: it is in the batch's hypervisor
   * time, so in the VM's simulated time.
   */
  void payForScan(Vm vm, BatchResult result) {
    long ns = vm.sharing.scanPendingNs;
    if (ns > 0) {
      vm.sharing.scanPendingNs = 0;
      vm.sharing.scanPaidNs += ns;
      scanPaidNs += ns;
      result.hypervisorNs += ns;
    }
  }

  /**
   * A VM went off: it dropped {@code references} references to shared frames, {@code freed} of them the frame's
   * last; published as an event when there were any. What it had not yet paid for the scanner is not paid.
   */
  void released(Vm vm, long references, long freed) {
    notices.released(vm, references, freed, snapshot());
  }

  /** Drops the hints of a VM that is powered off. */
  void forget(Vm vm) {
    if (vm.sharing.hints > 0) {
      table.removeHintsOf(vm.id());
      vm.sharing.hints = 0;
    }
  }

  /** The references the table counts for the shared frame {@code mfn}. */
  long referenceCount(int mfn) {
    return table.count(slotOf(mfn));
  }

  /**
   * For the invariants: the shared frame {@code mfn}'s entry is found in the same slot by the per-frame index and
   * by a probe from its content's hash, as a scan looks it up.
   */
  void checkFindable(int mfn) {
    int byIndex = slotOf(mfn);
    int byContent = table.findShared(hash.applyAsLong(memory.read(mfn)), mfn);
    if (byIndex != byContent) {
      throw new IllegalStateException("shared MFN " + mfn + " is in slot " + byIndex + " by the index, "
          + byContent + " by a probe from its content's hash");
    }
  }

  private int slotOf(int mfn) {
    int s = table.sharedSlot(mfn);
    if (s < 0) {
      throw new IllegalStateException("shared MFN " + mfn + " is not in the sharing table");
    }
    return s;
  }

  // ---------------------------------------------------------------- accounting

  /**
   * The frames the reclamation policy charges {@code vm}: its private frames, and for its shared pages the
   * machine's shared frames per reference (the average of 1/refcount), so that the VMs' charges add up to the
   * frames they hold.
   */
  long chargedPages(Vm vm) {
    long shared = vm.sharing.sharedPages;
    return vm.mappedPages - shared + (references == 0 ? 0
        : Math.round((double) shared * table.sharedEntries() / references));
  }

  VmSharing snapshot(Vm vm) {
    VmSharing.Live s = vm.sharing;
    return new VmSharing(s.sharedPages, vm.mappedPages - chargedPages(vm), s.hints, s.cowBreaks, s.scanned,
        s.sharedBeforePageOut, s.scanPaidNs);
  }

  SharingSnapshot snapshot() {
    long zero = 0;
    long h0 = hash.applyAsLong(0L);
    for (int s = table.home(h0); !table.empty(s); s = table.next(s)) {
      if (table.hash(s) == h0 && table.isShared(s) && memory.read(table.sharedMfn(s)) == 0L) {
        zero = table.count(s);
      }
    }
    long frames = table.sharedEntries();
    return new SharingSnapshot(settings.enabled(), frames, references, references - frames, table.hintEntries(),
        cowBreaks, scanned, sharedBeforePageOut, collisions, table.bytes(), table.capacity(), zero, hintsEvicted,
        scanPaidNs);
  }

  /** Guest pages mapped to shared frames, over all VMs. */
  long references() {
    return references;
  }
}
