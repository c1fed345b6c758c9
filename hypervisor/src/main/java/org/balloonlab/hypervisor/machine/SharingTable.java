package org.balloonlab.hypervisor.machine;

import java.util.HashMap;
import java.util.Map;

/**
 * The page-sharing table (ESX, Waldspurger, OSDI 2002, section 4.2): one open-addressing table of 16-byte slots,
 * a 64-bit content hash and one packed {@code long}, in two primitive arrays; no object per entry. A slot holds
 * either a <em>shared</em> frame (its MFN and reference count) or a <em>hint</em> (the VM and PFN of a page scanned
 * once and found unique; it is checked again when a later page matches it, as that page may have changed since).
 *
 * <p>Linear probing with backward-shift deletion, so there are no tombstones. The capacity is the largest power of
 * two whose slots fit in {@link #BUDGET_FRACTION} of machine memory; the table takes at most three quarters of
 * it; beyond, a new entry takes the slot of the first hint along its probe sequence (a hint is only a hint:
 * stale ones, of pages written since, would otherwise fill the table), or, if its probe sequence holds none, a
 * hint elsewhere is dropped to make room (the next one after a clock hand that sweeps the table); an entry is
 * refused only if the table holds no hint at all. A reference count is
 * 16 bits; counts beyond go to a small overflow table keyed by MFN, as ESX does, which holds an entry only for a
 * frame shared more than 65,534 times.
 *
 * <p>A copy-on-write break or a dropped reference starts from a shared frame's MFN, not its content, so the table
 * also keeps, per machine frame, the slot of its shared entry ({@link #sharedSlot}): one {@code int} a frame, kept
 * up to date when a backward shift moves an entry, so that finding a shared frame's entry is one array read and
 * never a probe along a cluster. The slots and that index together stay within {@link #BUDGET_FRACTION} of
 * memory. Not thread-safe: the machine's lock serializes access.
 */
final class SharingTable {
  /** The table's slots may take this much of machine memory (ESX: under 0.5 %). */
  static final double BUDGET_FRACTION = 0.005;
  /** Bytes a slot takes: the hash and the packed entry. */
  static final int SLOT_BYTES = 16;
  /** Bytes the index takes per machine frame: the slot of the frame's shared entry. */
  static final int INDEX_BYTES_PER_FRAME = 4;
  /** What one entry of the overflow table is taken to cost on the heap (a boxed key, a boxed value, a node). */
  static final int OVERFLOW_ENTRY_BYTES = 64;

  private static final long KIND_SHARED = 1L << 62;
  private static final long KIND_HINT = 2L << 62;
  private static final long KIND_MASK = 3L << 62;
  /** The reference count field of a shared entry, bits 32..47. */
  private static final int COUNT_SHIFT = 32;
  private static final long COUNT_FIELD = 0xFFFFL;

  private final long[] hashes;
  private final long[] entries;
  /** Per machine frame: the slot of its shared entry; meaningful only while the frame is shared. */
  private final int[] sharedSlot;
  private final int mask;
  private final int maxEntries;
  /** The largest count the field holds; a count of this much and more lives in {@link #overflow}. */
  private final long fieldMax;
  private final Map<Integer, Long> overflow = new HashMap<>();
  private int size;
  /** The VM whose hint the last put evicted, or 0; read once by {@link #takeEvictedVm()}. */
  private int evictedVm;
  /** Where the search for a hint to drop, when a full table has none on a new entry's probe sequence, goes on. */
  private int hand;
  private int sharedEntries;
  private int hintEntries;

  /** A table sized for a machine of {@code frames} frames. */
  SharingTable(int frames) {
    this(capacityFor(frames), COUNT_FIELD, frames);
  }

  /**
   * A table of {@code capacity} slots (a power of two) whose count field holds counts below {@code fieldMax}, for
   * a machine of {@code frames} frames.
   */
  SharingTable(int capacity, long fieldMax, int frames) {
    if (capacity < 4 || Integer.bitCount(capacity) != 1) {
      throw new IllegalArgumentException("the sharing table's capacity must be a power of two >= 4, got "
          + capacity);
    }
    if (fieldMax < 2 || fieldMax > COUNT_FIELD) {
      throw new IllegalArgumentException("the reference count field holds 2.." + COUNT_FIELD + ", got " + fieldMax);
    }
    if (frames < 1) {
      throw new IllegalArgumentException("the sharing table needs a machine of >= 1 frame, got " + frames);
    }
    hashes = new long[capacity];
    entries = new long[capacity];
    sharedSlot = new int[frames];
    mask = capacity - 1;
    maxEntries = capacity / 4 * 3;
    this.fieldMax = fieldMax;
  }

  /**
   * The largest power of two of slots whose bytes, with the per-frame index, stay within {@link #BUDGET_FRACTION}
   * of the machine's memory.
   */
  static int capacityFor(int frames) {
    long budget = ((long) (frames * 4096.0 * BUDGET_FRACTION) - (long) frames * INDEX_BYTES_PER_FRAME) / SLOT_BYTES;
    return (int) Math.max(4, Long.highestOneBit(Math.min(budget, 1L << 30)));
  }

  int capacity() {
    return entries.length;
  }

  int size() {
    return size;
  }

  int sharedEntries() {
    return sharedEntries;
  }

  int hintEntries() {
    return hintEntries;
  }

  /** The entries the table takes before a new one must take a hint's slot: three quarters of its slots. */
  int maxEntries() {
    return maxEntries;
  }

  boolean full() {
    return size >= maxEntries;
  }

  /** Heap bytes of the table: its slots, the per-frame index and the overflow table. */
  long bytes() {
    return (long) entries.length * SLOT_BYTES + (long) sharedSlot.length * INDEX_BYTES_PER_FRAME
        + (long) overflow.size() * OVERFLOW_ENTRY_BYTES;
  }

  // ------------------------------------------------------------------ slots

  /** The first slot of {@code hash}'s probe sequence. */
  int home(long hash) {
    return (int) (hash ^ (hash >>> 32)) & mask;
  }

  int next(int slot) {
    return (slot + 1) & mask;
  }

  boolean empty(int slot) {
    return entries[slot] == 0;
  }

  long hash(int slot) {
    return hashes[slot];
  }

  boolean isShared(int slot) {
    return (entries[slot] & KIND_MASK) == KIND_SHARED;
  }

  boolean isHint(int slot) {
    return (entries[slot] & KIND_MASK) == KIND_HINT;
  }

  int sharedMfn(int slot) {
    return (int) entries[slot];
  }

  int hintVm(int slot) {
    return (int) ((entries[slot] >>> 28) & 0xFFFF_FFFFL);
  }

  int hintPfn(int slot) {
    return (int) (entries[slot] & 0x0FFF_FFFF);
  }

  /** The slot of the shared entry for {@code mfn}, from the per-frame index, or -1 if the frame is not shared. */
  int sharedSlot(int mfn) {
    int s = sharedSlot[mfn];
    return isShared(s) && sharedMfn(s) == mfn ? s : -1;
  }

  /**
   * The slot of the shared entry for {@code mfn} whose content hashes to {@code hash}, or -1: found by probing
   * from the hash's home, as a lookup by content does, so it also checks that the entry is where probes find it.
   */
  int findShared(long hash, int mfn) {
    for (int s = home(hash); !empty(s); s = next(s)) {
      if (hashes[s] == hash && isShared(s) && sharedMfn(s) == mfn) {
        return s;
      }
    }
    return -1;
  }

  // ------------------------------------------------------------------ changes

  /** Records {@code mfn} as shared with {@code count} references; answers its slot, or -1 if the table is full. */
  int putShared(long hash, int mfn, long count) {
    int s = freeSlot(hash);
    if (s >= 0) {
      hashes[s] = hash;
      entries[s] = KIND_SHARED | (mfn & 0xFFFF_FFFFL);
      sharedSlot[mfn] = s;
      setCount(s, count);
      size++;
      sharedEntries++;
    }
    return s;
  }

  /** Records a hint for (vm, pfn); answers its slot, or -1 if the table is full. */
  int putHint(long hash, int vmId, int pfn) {
    int s = freeSlot(hash);
    if (s >= 0) {
      hashes[s] = hash;
      entries[s] = hintBits(vmId, pfn);
      size++;
      hintEntries++;
    }
    return s;
  }

  /** Turns the hint in {@code slot} into a shared entry for {@code mfn}, of the same hash. */
  void hintToShared(int slot, int mfn, long count) {
    if (!isHint(slot)) {
      throw new IllegalStateException("slot " + slot + " holds no hint");
    }
    entries[slot] = KIND_SHARED | (mfn & 0xFFFF_FFFFL);
    sharedSlot[mfn] = slot;
    setCount(slot, count);
    hintEntries--;
    sharedEntries++;
  }

  long count(int slot) {
    long field = (entries[slot] >>> COUNT_SHIFT) & COUNT_FIELD;
    return field < fieldMax ? field : overflow.get(sharedMfn(slot));
  }

  void setCount(int slot, long count) {
    long old = (entries[slot] >>> COUNT_SHIFT) & COUNT_FIELD;
    long field = Math.min(count, fieldMax);
    entries[slot] = (entries[slot] & ~(COUNT_FIELD << COUNT_SHIFT)) | (field << COUNT_SHIFT);
    // The overflow map is touched only by counts at the field's limit, so the common case boxes nothing.
    if (count >= fieldMax) {
      overflow.put(sharedMfn(slot), count);
    } else if (old >= fieldMax) {
      overflow.remove(sharedMfn(slot));
    }
  }

  /** Entries of the overflow table: shared frames whose count outgrew the field. */
  int overflowEntries() {
    return overflow.size();
  }

  /** Empties {@code slot}, shifting later entries of its cluster back so no probe sequence is broken. */
  void remove(int slot) {
    if (isShared(slot)) {
      if (((entries[slot] >>> COUNT_SHIFT) & COUNT_FIELD) >= fieldMax) {
        overflow.remove(sharedMfn(slot));
      }
      sharedEntries--;
    } else if (isHint(slot)) {
      hintEntries--;
    } else {
      throw new IllegalStateException("slot " + slot + " is empty");
    }
    size--;
    int hole = slot;
    for (int s = next(slot); !empty(s); s = next(s)) {
      int h = home(hashes[s]);
      // The entry at s may move into the hole if its home is not cyclically within (hole, s].
      boolean stays = hole <= s ? (hole < h && h <= s) : (hole < h || h <= s);
      if (!stays) {
        hashes[hole] = hashes[s];
        entries[hole] = entries[s];
        if (isShared(hole)) {
          sharedSlot[sharedMfn(hole)] = hole;
        }
        hole = s;
      }
    }
    hashes[hole] = 0;
    entries[hole] = 0;
  }

  /**
   * Removes every hint of VM {@code vmId}, when it is powered off: a sweep of the table. Backward shifts only move
   * entries forward of the hole into it, so rechecking the slot just emptied visits each entry at least once.
   *
   * @return the hints removed
   */
  int removeHintsOf(int vmId) {
    int removed = 0;
    for (int s = 0; s < entries.length; s++) {
      while (isHint(s) && hintVm(s) == vmId) {
        remove(s);
        removed++;
      }
    }
    return removed;
  }

  /** The VM id of the hint the last put evicted to make room, or 0 if it evicted none; clears it. */
  int takeEvictedVm() {
    int vm = evictedVm;
    evictedVm = 0;
    return vm;
  }

  private int freeSlot(long hash) {
    if (full()) {
      // Every slot from the home up to the first hint is taken, so the new entry there keeps its probe sequence,
      // and the slot stays taken, so no other entry's is broken.
      for (int s = home(hash); !empty(s); s = next(s)) {
        if (isHint(s)) {
          evictedVm = hintVm(s);
          hintEntries--;
          size--;
          return s;
        }
      }
      // Only shared entries up to the first empty slot: a page of this content could never get in, however often
      // it was scanned, and two equal pages whose hash lands here would never meet. Drop another hint instead.
      if (!dropHintAtHand()) {
        return -1;
      }
    }
    int s = home(hash);
    while (!empty(s)) {
      s = next(s);
    }
    return s;
  }

  /** Drops the first hint at or after the clock hand, its VM noted for {@link #takeEvictedVm}; false if none. */
  private boolean dropHintAtHand() {
    if (hintEntries == 0) {
      return false;
    }
    for (int i = 0; i < entries.length; i++) {
      int s = (hand + i) & mask;
      if (isHint(s)) {
        evictedVm = hintVm(s);
        hand = next(s);
        remove(s);
        return true;
      }
    }
    throw new IllegalStateException(hintEntries + " hints counted, none in the table");
  }

  private static long hintBits(int vmId, int pfn) {
    if (pfn < 0 || pfn >= (1 << 28) || vmId <= 0) {
      throw new IllegalArgumentException("a hint holds a VM id >= 1 and a PFN below 2^28, got " + vmId + "/" + pfn);
    }
    return KIND_HINT | ((vmId & 0xFFFF_FFFFL) << 28) | pfn;
  }
}
