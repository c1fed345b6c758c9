package org.balloonlab.hypervisor.mmu;

/**
 * A set-associative translation lookaside buffer: caches translations of (VM, address space, VPN) to an MFN.
 *
 * <p><b>Organisation.</b> {@code entries} slots in {@code entries / ways} sets of {@code ways}; a VPN's set is
 * its low bits ({@code vpn mod sets}), as hardware indexes by the low bits of the virtual page number, so a
 * sequential scan spreads over every set. Within a set the least recently used way is evicted (exact LRU from a
 * use stamp per slot; hardware approximates it with a few bits per set, which changes little at 8-16 ways).
 *
 * <p><b>Tags.</b> Every entry is tagged with its VM (as VPIDs do) and its address space (as PCIDs do), so a
 * lookup never hits another VM's or another process's translation. With address-space tags turned off
 * ({@code asidTagged == false}, a TLB of the days before PCIDs) a guest's context switch must flush the VM's
 * entries instead, which {@link #flushVm} does; kernel entries ({@link #GLOBAL_ASID}) are global pages and
 * survive it, as the kernel's mappings are the same in every address space.
 *
 * <p><b>Sizing.</b> Three primitive arrays (tag, MFN, use stamp), 20 bytes a slot: no object per entry, and a
 * lookup allocates nothing. Not thread-safe: the machine's lock serializes access.
 */
public final class Tlb {
  /** The address space of the guest kernel's direct map: global entries. */
  public static final int GLOBAL_ASID = 0xFFFF;
  /** Largest VM tag: VM numbers are folded into 16 bits, as hardware VPIDs are. */
  public static final int MAX_VM_TAG = 0xFFFF;
  private static final long EMPTY = 0L;

  private final int ways;
  private final int sets;
  /** {@code sets - 1} when sets is a power of two (the usual shape): a mask instead of a division per lookup. */
  private final int setMask;
  private final boolean asidTagged;
  private final long[] tags;
  private final int[] mfns;
  private final long[] stamps;
  private long clock;
  private long flushes;
  private long invalidations;

  /**
   * @param entries slots in all
   * @param ways slots per set; {@code entries} must be a multiple of it
   * @param asidTagged whether entries carry their address space; without, context switches flush
   */
  public Tlb(int entries, int ways, boolean asidTagged) {
    if (entries <= 0 || ways <= 0 || ways > 256 || entries % ways != 0) {
      throw new IllegalArgumentException("a TLB needs a positive number of entries that is a multiple of its "
          + "ways (1 to 256), got " + entries + " entries and " + ways + " ways");
    }
    this.ways = ways;
    this.sets = entries / ways;
    this.setMask = Integer.bitCount(sets) == 1 ? sets - 1 : -1;
    this.asidTagged = asidTagged;
    this.tags = new long[entries];
    this.mfns = new int[entries];
    this.stamps = new long[entries];
  }

  /** The VM tag of a VM id: ids run on forever, tags are 16 bits and never 0. */
  public static int vmTag(int vmId) {
    return 1 + Math.floorMod(vmId - 1, MAX_VM_TAG);
  }

  // A tag packs VM (16 bits), address space (16 bits) and VPN (32 bits); the VM tag is never 0, so a valid tag
  // is never EMPTY.
  private static long tag(int vmTag, int asid, int vpn) {
    return ((long) vmTag << 48) | ((long) (asid & 0xFFFF) << 32) | (vpn & 0xFFFFFFFFL);
  }

  private int setBase(int vpn) {
    if (setMask >= 0) {
      return (vpn & setMask) * ways;
    }
    return (int) ((vpn & 0xFFFFFFFFL) % sets) * ways;
  }

  /**
   * Looks a translation up; a hit makes it the most recently used of its set.
   *
   * @return the cached MFN, or -1 on a miss
   */
  public int lookup(int vmTag, int asid, int vpn) {
    long t = tag(vmTag, asid, vpn);
    int base = setBase(vpn);
    for (int i = base, end = base + ways; i < end; i++) {
      if (tags[i] == t) {
        stamps[i] = ++clock;
        return mfns[i];
      }
    }
    return -1;
  }

  /** Caches a translation, evicting the least recently used way of its set if the set is full. */
  public void insert(int vmTag, int asid, int vpn, int mfn) {
    long t = tag(vmTag, asid, vpn);
    int base = setBase(vpn);
    int end = base + ways;
    int victim = -1;
    for (int i = base; i < end; i++) {
      if (tags[i] == t) {
        victim = i;
        break;
      }
    }
    if (victim < 0) {
      victim = base;
      for (int i = base; i < end; i++) {
        if (tags[i] == EMPTY) {
          victim = i;
          break;
        }
        if (stamps[i] < stamps[victim]) {
          victim = i;
        }
      }
    }
    tags[victim] = t;
    mfns[victim] = mfn;
    stamps[victim] = ++clock;
  }

  /**
   * Caches a translation that a {@link #lookup} just missed: one pass over the set for an empty way or the least
   * recently used one, without looking for the tag again (the data path's fill after every miss).
   */
  public void fill(int vmTag, int asid, int vpn, int mfn) {
    int base = setBase(vpn);
    // Empty ways have stamp 0, so the least stamp is an empty way if there is one, else the LRU way. Stamp and
    // way are packed in one long so the minimum is found without a branch per way (stamps stay below 2^56).
    long least = Long.MAX_VALUE;
    for (int w = 0; w < ways; w++) {
      least = Math.min(least, (stamps[base + w] << 8) | w);
    }
    int victim = base + (int) (least & 0xFF);
    tags[victim] = tag(vmTag, asid, vpn);
    mfns[victim] = mfn;
    stamps[victim] = ++clock;
  }

  /** Drops the translation of one page (INVLPG); answers whether one was cached. */
  public boolean invalidate(int vmTag, int asid, int vpn) {
    long t = tag(vmTag, asid, vpn);
    int base = setBase(vpn);
    for (int i = base, end = base + ways; i < end; i++) {
      if (tags[i] == t) {
        tags[i] = EMPTY;
        stamps[i] = 0;
        invalidations++;
        return true;
      }
    }
    return false;
  }

  /** Drops every translation of one address space of a VM (its process exited). */
  public int invalidateAddressSpace(int vmTag, int asid) {
    long prefix = tag(vmTag, asid, 0) >>> 32;
    int n = 0;
    for (int i = 0; i < tags.length; i++) {
      if (tags[i] != EMPTY && tags[i] >>> 32 == prefix) {
        tags[i] = EMPTY;
        stamps[i] = 0;
        n++;
      }
    }
    invalidations += n;
    return n;
  }

  /**
   * A guest context switch: without address-space tags the VM's translations must go, global ones excepted.
   * With tags it is a no-op, which is what tags are for.
   *
   * @return entries dropped
   */
  public int contextSwitch(int vmTag) {
    if (asidTagged) {
      return 0;
    }
    flushes++;
    return flushVm(vmTag, false);
  }

  /** Drops a VM's translations; global (kernel) ones too if {@code includingGlobal}. */
  public int flushVm(int vmTag, boolean includingGlobal) {
    int n = 0;
    for (int i = 0; i < tags.length; i++) {
      long t = tags[i];
      if (t != EMPTY && (int) (t >>> 48) == vmTag
          && (includingGlobal || (int) ((t >>> 32) & 0xFFFF) != GLOBAL_ASID)) {
        tags[i] = EMPTY;
        stamps[i] = 0;
        n++;
      }
    }
    return n;
  }

  /** Translations cached now, all VMs. */
  public int occupied() {
    int n = 0;
    for (long t : tags) {
      if (t != EMPTY) {
        n++;
      }
    }
    return n;
  }

  public int entries() {
    return tags.length;
  }

  public int ways() {
    return ways;
  }

  public boolean asidTagged() {
    return asidTagged;
  }

  /** Context-switch flushes so far. */
  public long flushes() {
    return flushes;
  }

  /** Single translations dropped because a mapping changed (page and address-space invalidations). */
  public long invalidations() {
    return invalidations;
  }
}
