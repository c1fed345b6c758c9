package org.balloonlab.hypervisor.machine;

/**
 * A VM's physical-to-machine map, PFN to MFN, one {@code int} per guest page.
 *
 * <p>An entry encodes every state a guest-physical page can be in, so the map needs no side tables:
 * <ul>
 *   <li>{@code >= 0}: backed by that MFN;
 *   <li>{@link #UNTOUCHED}: never touched (or given back), a first touch is a demand-zero fault;
 *   <li>{@link #BALLOONED}: locked by the balloon driver; the hypervisor took its frame back;
 *   <li>{@code <= SWAPPED_BASE}: paged out by the hypervisor to host swap slot {@code SWAPPED_BASE - entry}.
 * </ul>
 * Not thread-safe: the {@link Machine}'s lock serializes access.
 */
public final class P2m {
  public static final int UNTOUCHED = -1;
  public static final int BALLOONED = -2;
  public static final int SWAPPED_BASE = -3;

  private final int[] entries;

  public P2m(int pages) {
    entries = new int[pages];
    java.util.Arrays.fill(entries, UNTOUCHED);
  }

  public int pages() {
    return entries.length;
  }

  public int get(int pfn) {
    return entries[pfn];
  }

  public void map(int pfn, int mfn) {
    entries[pfn] = mfn;
  }

  public void setSwapped(int pfn, int slot) {
    entries[pfn] = SWAPPED_BASE - slot;
  }

  public void setBallooned(int pfn) {
    entries[pfn] = BALLOONED;
  }

  public void clear(int pfn) {
    entries[pfn] = UNTOUCHED;
  }

  public static boolean isMapped(int entry) {
    return entry >= 0;
  }

  public static boolean isBallooned(int entry) {
    return entry == BALLOONED;
  }

  public static boolean isSwapped(int entry) {
    return entry <= SWAPPED_BASE;
  }

  public static int swapSlot(int entry) {
    return SWAPPED_BASE - entry;
  }
}
