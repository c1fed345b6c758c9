package org.balloonlab.hypervisor.mmu;

/**
 * A set-associative translation lookaside buffer: caches translations of (VM, address space, VPN) to an MFN.
 *
 * <p><b>Organisation.</b> {@code entries} slots in {@code entries / ways} sets of {@code ways}; a VPN's set is
 * its low bits ({@code vpn mod sets}), as hardware indexes by the low bits of the virtual page number, so a
 * sequential scan spreads over every set. Within a set a fill takes an empty way, else the victim of bit
 * pseudo-LRU (as hardware does): each way has a recently-used bit, set when it is filled or hit; when every bit
 * of a set would be set, all but the newest are cleared; the victim is the first way whose bit is clear. It keeps
 * what was used since the last reset and costs one bit per way, so a fill needs no scan of the set.
 *
 * <p><b>Tags.</b> Every entry is tagged with its VM (as VPIDs do) and its address space (as PCIDs do), so a
 * lookup never hits another VM's or another process's translation. With address-space tags turned off
 * ({@code asidTagged == false}, a TLB of the days before PCIDs) a guest's context switch must flush the VM's
 * entries instead, which {@link #flushVm} does; kernel entries ({@link #GLOBAL_ASID}) are global pages and
 * survive it, as the kernel's mappings are the same in every address space.
 *
 * <p><b>Sizing.</b> Two primitive arrays per slot (tag, MFN) and two bit masks per set (valid, recently used):
 * about 12 bytes a slot, no object per entry, and a lookup allocates nothing. Not thread-safe: the machine's
 * lock serializes access.
 */
public final class Tlb {
  /** The address space of the guest kernel's direct map: global entries. */
  public static final int GLOBAL_ASID = 0xFFFF;
  /** Largest VM tag: VM numbers are folded into 16 bits, as hardware VPIDs are. */
  public static final int MAX_VM_TAG = 0xFFFF;
  /** Most ways a set may have: a set's bits fit in one long. */
  public static final int MAX_WAYS = 64;
  private static final long EMPTY = 0L;

  private final int ways;
  private final int sets;
  /** {@code sets - 1} when sets is a power of two (the usual shape): a mask instead of a division per lookup. */
  private final int setMask;
  private final long allWays;
  private final boolean asidTagged;
  private final long[] tags;
  private final int[] mfns;
  /** Per set: which ways hold an entry, and which were used since the last reset of the recently-used bits. */
  private final long[] valid;
  private final long[] used;
  private long invalidations;

  /**
   * @param entries slots in all
   * @param ways slots per set, 1 to {@link #MAX_WAYS}; {@code entries} must be a multiple of it
   * @param asidTagged whether entries carry their address space; without, context switches flush
   */
  public Tlb(int entries, int ways, boolean asidTagged) {
    if (entries <= 0 || ways <= 0 || ways > MAX_WAYS || entries % ways != 0) {
      throw new IllegalArgumentException("a TLB needs a positive number of entries that is a multiple of its "
          + "ways (1 to " + MAX_WAYS + "), got " + entries + " entries and " + ways + " ways");
    }
    this.ways = ways;
    this.sets = entries / ways;
    this.setMask = Integer.bitCount(sets) == 1 ? sets - 1 : -1;
    this.allWays = ways == 64 ? -1L : (1L << ways) - 1;
    this.asidTagged = asidTagged;
    this.tags = new long[entries];
    this.mfns = new int[entries];
    this.valid = new long[sets];
    this.used = new long[sets];
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

  private int set(int vpn) {
    return setMask >= 0 ? vpn & setMask : (int) ((vpn & 0xFFFFFFFFL) % sets);
  }

  /** Marks a way recently used; when that would mark the whole set, only this way stays marked. */
  private void touch(int set, int way) {
    long u = used[set] | (1L << way);
    used[set] = u == allWays ? 1L << way : u;
  }

  /**
   * Looks a translation up; a hit marks it recently used.
   *
   * @return the cached MFN, or -1 on a miss
   */
  public int lookup(int vmTag, int asid, int vpn) {
    long t = tag(vmTag, asid, vpn);
    int set = set(vpn);
    int base = set * ways;
    for (int w = 0; w < ways; w++) {
      if (tags[base + w] == t) {
        touch(set, w);
        return mfns[base + w];
      }
    }
    return -1;
  }

  /**
   * Caches a translation that a {@link #lookup} just missed: an empty way if the set has one, else the first way
   * not recently used. No scan of the set: the data path fills after every miss.
   */
  public void fill(int vmTag, int asid, int vpn, int mfn) {
    int set = set(vpn);
    long free = ~valid[set] & allWays;
    int way = Long.numberOfTrailingZeros(free != 0 ? free : ~used[set] & allWays);
    int slot = set * ways + way;
    tags[slot] = tag(vmTag, asid, vpn);
    mfns[slot] = mfn;
    valid[set] |= 1L << way;
    touch(set, way);
  }

  private void drop(int slot) {
    tags[slot] = EMPTY;
    int set = slot / ways;
    long bit = 1L << (slot - set * ways);
    valid[set] &= ~bit;
    used[set] &= ~bit;
  }

  /** Drops the translation of one page (INVLPG); answers whether one was cached. */
  public boolean invalidate(int vmTag, int asid, int vpn) {
    long t = tag(vmTag, asid, vpn);
    int base = set(vpn) * ways;
    for (int i = base, end = base + ways; i < end; i++) {
      if (tags[i] == t) {
        drop(i);
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
        drop(i);
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
    return flushVm(vmTag, false);
  }

  /** Drops a VM's translations; global (kernel) ones too if {@code includingGlobal}. */
  public int flushVm(int vmTag, boolean includingGlobal) {
    int n = 0;
    for (int i = 0; i < tags.length; i++) {
      long t = tags[i];
      if (t != EMPTY && (int) (t >>> 48) == vmTag
          && (includingGlobal || (int) ((t >>> 32) & 0xFFFF) != GLOBAL_ASID)) {
        drop(i);
        n++;
      }
    }
    return n;
  }

  public boolean asidTagged() {
    return asidTagged;
  }

  /** Single translations dropped because a mapping changed (page and address-space invalidations). */
  public long invalidations() {
    return invalidations;
  }
}
