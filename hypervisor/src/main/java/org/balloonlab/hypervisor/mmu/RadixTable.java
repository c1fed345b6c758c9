package org.balloonlab.hypervisor.mmu;

/**
 * A map from VPN to a page number shaped like a 4-level x86-64 page table: a root (PML4) of 512 entries, then
 * directory pages (PDPT, PD) and leaf pages (PT) of 512 entries each, allocated when the first entry below them is
 * set. A VPN indexes the levels with bits 35-27, 26-18, 17-9 and 8-0.
 *
 * <p>It serves twice: as a shadow table, whose 4 KiB table pages are hypervisor memory a real shadow table would
 * take ({@link #tablePages()} counts them), and as the hypervisor's copy of a guest page table, built from the
 * guest's page-table events (that one lives in guest memory on real hardware and is not overhead). Table pages
 * are kept once allocated, until the whole table is dropped: shadow implementations keep shadow pages while the
 * address space lives, so the count grows with the pages mapped and falls only when the process exits.
 *
 * <p>Storage: each leaf is an {@code int[512]} holding value + 1 (0 means empty, so a new leaf needs no fill),
 * directories are arrays of references. No object per page; memory is proportional to the leaves in use. A VPN
 * must be 0 to {@link #MAX_VPN}. Not thread-safe.
 */
public final class RadixTable {
  /** Largest VPN: 36 bits of page number, a 48-bit virtual address space, capped to a non-negative int. */
  public static final int MAX_VPN = Integer.MAX_VALUE;
  static final int FANOUT = 512;
  private static final int ROOT_SLOTS = (MAX_VPN >>> 27) + 1;

  private final int[][][][] root = new int[ROOT_SLOTS][][][];
  private int pdpts;
  private int pds;
  private int leaves;
  private long entries;

  /** The value at {@code vpn}, or -1 if none. */
  public int get(int vpn) {
    int[] leaf = leaf(vpn);
    return leaf == null ? -1 : leaf[vpn & 511] - 1;
  }

  /** The leaf that holds {@code vpn}'s entry, or {@code null} if none was allocated on its way. */
  private int[] leaf(int vpn) {
    int[][][] pdpt = root[vpn >>> 27];
    if (pdpt == null) {
      return null;
    }
    int[][] pd = pdpt[(vpn >>> 18) & 511];
    return pd == null ? null : pd[(vpn >>> 9) & 511];
  }

  /**
   * How many of the table pages on {@code vpn}'s path are not allocated yet: 3 if its PDPT is missing, 2 if its
   * PD is, 1 if its leaf is, 0 if setting it would allocate nothing. The missing ones are always the deepest.
   */
  public int missingLevels(int vpn) {
    int[][][] pdpt = root[vpn >>> 27];
    if (pdpt == null) {
      return 3;
    }
    int[][] pd = pdpt[(vpn >>> 18) & 511];
    if (pd == null) {
      return 2;
    }
    return pd[(vpn >>> 9) & 511] == null ? 1 : 0;
  }

  /**
   * Sets {@code vpn} to {@code value} (>= 0), allocating table pages on the way.
   *
   * @return the previous value, or -1
   */
  public int put(int vpn, int value) {
    if (value < 0 || value == Integer.MAX_VALUE) {
      throw new IllegalArgumentException("a table entry holds 0 to " + (Integer.MAX_VALUE - 1) + ", got " + value);
    }
    int[][][] pdpt = root[vpn >>> 27];
    if (pdpt == null) {
      pdpt = new int[FANOUT][][];
      root[vpn >>> 27] = pdpt;
      pdpts++;
    }
    int[][] pd = pdpt[(vpn >>> 18) & 511];
    if (pd == null) {
      pd = new int[FANOUT][];
      pdpt[(vpn >>> 18) & 511] = pd;
      pds++;
    }
    int[] leaf = pd[(vpn >>> 9) & 511];
    if (leaf == null) {
      leaf = new int[FANOUT];
      pd[(vpn >>> 9) & 511] = leaf;
      leaves++;
    }
    int old = leaf[vpn & 511] - 1;
    leaf[vpn & 511] = value + 1;
    if (old < 0) {
      entries++;
    }
    return old;
  }

  /** Clears {@code vpn}; answers its value, or -1 if it had none. Table pages stay. */
  public int remove(int vpn) {
    int[] leaf = leaf(vpn);
    if (leaf == null) {
      return -1;
    }
    int old = leaf[vpn & 511] - 1;
    if (old >= 0) {
      leaf[vpn & 511] = 0;
      entries--;
    }
    return old;
  }

  /** Receives the entries of a table. */
  @FunctionalInterface
  public interface EntryVisitor {
    void visit(int vpn, int value);
  }

  /** Visits every entry in VPN order. */
  public void forEach(EntryVisitor visitor) {
    for (int a = 0; a < root.length; a++) {
      int[][][] pdpt = root[a];
      if (pdpt == null) {
        continue;
      }
      for (int b = 0; b < FANOUT; b++) {
        int[][] pd = pdpt[b];
        if (pd == null) {
          continue;
        }
        for (int c = 0; c < FANOUT; c++) {
          int[] leaf = pd[c];
          if (leaf == null) {
            continue;
          }
          int base = (a << 27) | (b << 18) | (c << 9);
          for (int d = 0; d < FANOUT; d++) {
            if (leaf[d] != 0) {
              visitor.visit(base | d, leaf[d] - 1);
            }
          }
        }
      }
    }
  }

  /** Entries set now. */
  public long entries() {
    return entries;
  }

  /** 4 KiB pages a real table with these entries takes: the root plus every directory and leaf page allocated. */
  public long tablePages() {
    return 1L + pdpts + pds + leaves;
  }
}
