package org.balloonlab.hypervisor.mmu;

import java.util.Arrays;
import java.util.function.IntPredicate;

/**
 * An upper bound of the translation-table pages one batch may make a VM's {@link Mmu} allocate, counted before the
 * batch is applied so a batch that could pass the VM's budget is refused whole ({@link Mmu#admits}).
 *
 * <p>Every entry that may allocate is assumed to: a map or remap (in the guest-table copy, and in shadow mode in
 * the shadow table when its PFN may be backed: it is before the batch, or the batch has accesses, which alone back
 * PFNs), an access (adopted into the guest-table copy, filled into the shadow), an address-space switch in shadow
 * mode (a shadow root). Unmaps, guest faults and releases allocate nothing, and what a release frees is not
 * credited. A missing table page is first counted once per entry that needs it, probing the existing tables (three
 * array reads); only when that plain sum would cross the room left are the pages told apart, by sorting a key per
 * (table, address space, level, VPN prefix) in a {@code long[]}: a dense batch of new mappings under one new leaf
 * then counts that leaf once, and no boxed set is built on the data path. Used under the machine's lock.
 */
final class TablePagesBound {
  private static final int LEVELS = Mmu.LEVELS;

  private final RadixTable[] guestTables;
  /** {@code null} in nested mode. */
  private final RadixTable[] shadowTables;

  TablePagesBound(RadixTable[] guestTables, RadixTable[] shadowTables) {
    this.guestTables = guestTables;
    this.shadowTables = shadowTables;
  }

  /** The table pages the batch may add: the plain sum if it fits {@code room}, else the distinct count. */
  long pagesNeeded(int count, byte[] ops, int[] pfns, char[] asids, int[] vpns, IntPredicate backed, long room) {
    boolean accesses = false;
    for (int i = 0; i < count && !accesses; i++) {
      accesses = ops[i] < Mmu.PT_MAP;
    }
    long sum = 0;
    for (int i = 0; i < count; i++) {
      byte op = ops[i];
      int asid = asids[i];
      if (allocatesGuest(op, asid)) {
        sum += missing(guestTables[asid], vpns[i]);
      }
      if (shadowTables != null && allocatesShadow(op, asid) && shadowMayFill(op, pfns[i], accesses, backed)) {
        sum += op == Mmu.AS_SWITCH ? (shadowTables[asid] == null ? 1 : 0) : missing(shadowTables[asid], vpns[i]);
      }
    }
    return sum <= room ? sum : distinctMissing(count, ops, pfns, asids, vpns, accesses, backed);
  }

  private static boolean allocatesGuest(byte op, int asid) {
    return asid != Tlb.GLOBAL_ASID && (op == Mmu.PT_MAP || op == Mmu.PT_REMAP || op < Mmu.PT_MAP);
  }

  private static boolean allocatesShadow(byte op, int asid) {
    return asid != Tlb.GLOBAL_ASID && (op == Mmu.PT_MAP || op == Mmu.PT_REMAP || op == Mmu.AS_SWITCH
        || op < Mmu.PT_MAP);
  }

  private static boolean shadowMayFill(byte op, int pfn, boolean accesses, IntPredicate backed) {
    return (op != Mmu.PT_MAP && op != Mmu.PT_REMAP) || accesses || backed.test(pfn);
  }

  private static int missing(RadixTable table, int vpn) {
    return table == null ? LEVELS : table.missingLevels(vpn);
  }

  private long distinctMissing(int count, byte[] ops, int[] pfns, char[] asids, int[] vpns, boolean accesses,
                               IntPredicate backed) {
    long[] keys = new long[count * 2 * LEVELS];
    int n = 0;
    for (int i = 0; i < count; i++) {
      byte op = ops[i];
      int asid = asids[i];
      if (allocatesGuest(op, asid)) {
        n = addKeys(keys, n, 0, asid, vpns[i], guestTables[asid]);
      }
      if (shadowTables != null && allocatesShadow(op, asid) && shadowMayFill(op, pfns[i], accesses, backed)) {
        if (op == Mmu.AS_SWITCH) {
          if (shadowTables[asid] == null) {
            keys[n++] = key(1, asid, 0, 0);
          }
        } else {
          n = addKeys(keys, n, 1, asid, vpns[i], shadowTables[asid]);
        }
      }
    }
    Arrays.sort(keys, 0, n);
    long distinct = 0;
    for (int i = 0; i < n; i++) {
      if (i == 0 || keys[i] != keys[i - 1]) {
        distinct++;
      }
    }
    return distinct;
  }

  private static int addKeys(long[] keys, int n, int kind, int asid, int vpn, RadixTable table) {
    int missing;
    if (table == null) {
      keys[n++] = key(kind, asid, 0, 0);
      missing = LEVELS - 1;
    } else {
      missing = table.missingLevels(vpn);
    }
    // The missing levels are the deepest: level 1 (a PDPT, under bits 35-27), 2 (a PD), 3 (a leaf).
    for (int level = LEVELS - missing; level < LEVELS; level++) {
      keys[n++] = key(kind, asid, level, vpn >>> (36 - 9 * level));
    }
    return n;
  }

  /** (table kind: 0 guest, 1 shadow; address space; level: 0 root .. 3 leaf; the VPN bits above the level). */
  private static long key(int kind, int asid, int level, int prefix) {
    return ((long) kind << 62) | ((long) asid << 44) | ((long) level << 40) | (prefix & 0xFF_FFFF_FFFFL);
  }
}
